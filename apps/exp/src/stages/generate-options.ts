/**
 * Which of `pnpm exp generate`'s options a stage kind takes at all: one it cannot use is an
 * error naming its flag, not ignored. (What they mean for a concept head:
 * `headGenerateOptions` of `@sentencelab/concept-heads`; every model decodes its tokens with
 * `decodeOptionsFrom` of `@sentencelab/sentence-vae`.)
 */
import { DIFFUSION_CHOICES, type DiffusionChoice } from '@sentencelab/concept-heads';
import { CONCEPT_HEAD_KINDS, type GenerateOptions } from './types.js';

/** The CLI flag of each diffusion sampler choice. */
const DIFFUSION_FLAGS: Record<DiffusionChoice, string> = {
  guidance: '--guidance',
  initialNoise: '--initial-noise',
  samplingSteps: '--sampling-steps',
  eta: '--eta',
};

/** Options that only some stage kinds can use, by their CLI flag. */
const ONLY: readonly { key: keyof GenerateOptions; flag: string; kinds: readonly string[]; what: string }[] = [
  { key: 'feedback', flag: '--feedback', kinds: CONCEPT_HEAD_KINDS, what: 'concept heads (lcm-mse, lcm-diffusion, lcm-energy)' },
  ...DIFFUSION_CHOICES.map((key) => ({ key, flag: DIFFUSION_FLAGS[key], kinds: ['lcm-diffusion'], what: 'diffusion heads (lcm-diffusion)' })),
];

/** Throws naming the first option given that a `kind` stage cannot use. */
export function checkGenerateOptions(kind: string, o: GenerateOptions): void {
  const bad = ONLY.find((x) => o[x.key] !== undefined && !x.kinds.includes(kind));
  if (bad) throw new Error(`${bad.flag} applies to ${bad.what} only; this run is a ${kind} stage`);
}
