/**
 * What `pnpm exp generate`'s options mean for a concept head (its sampler's options; every
 * model decodes its tokens with `decodeOptionsFrom` of `@sentencelab/sentence-vae`), and which
 * options a stage kind takes at all (one it cannot use is an error naming it, not ignored).
 */
import type { GenerateOptions as HeadGenerateOptions } from '@sentencelab/concept-heads';
import { CONCEPT_HEAD_KINDS, type GenerateOptions } from './types.js';

/** A concept head's generation options: only those given override the trained config's. */
export function headGenerate(o: GenerateOptions): HeadGenerateOptions {
  const out: HeadGenerateOptions = { maxSentences: o.maxSentences, seed: o.seed };
  if (o.feedback !== undefined) out.feedback = o.feedback;
  if (o.guidance !== undefined) out.guidance = { scale: o.guidance };
  const sampling: NonNullable<HeadGenerateOptions['sampling']> = {};
  if (o.samplingSteps !== undefined) sampling.steps = o.samplingSteps;
  if (o.eta !== undefined) sampling.eta = o.eta;
  if (o.initialNoise !== undefined) sampling.initialNoiseScale = o.initialNoise;
  if (Object.keys(sampling).length > 0) out.sampling = sampling;
  return out;
}

/** Options that only some stage kinds can use, by their CLI flag. */
const ONLY: readonly { key: keyof GenerateOptions; flag: string; kinds: readonly string[]; what: string }[] = [
  { key: 'feedback', flag: '--feedback', kinds: CONCEPT_HEAD_KINDS, what: 'concept heads (lcm-mse, lcm-diffusion, lcm-energy)' },
  ...(
    [
      ['guidance', '--guidance'],
      ['initialNoise', '--initial-noise'],
      ['samplingSteps', '--sampling-steps'],
      ['eta', '--eta'],
    ] as const
  ).map(([key, flag]) => ({ key, flag, kinds: ['lcm-diffusion'], what: 'diffusion heads (lcm-diffusion)' })),
];

/** Throws naming the first option given that a `kind` stage cannot use. */
export function checkGenerateOptions(kind: string, o: GenerateOptions): void {
  const bad = ONLY.find((x) => o[x.key] !== undefined && !x.kinds.includes(kind));
  if (bad) throw new Error(`${bad.flag} applies to ${bad.what} only; this run is a ${kind} stage`);
}
