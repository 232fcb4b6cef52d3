/**
 * A concept head's generation options as flat choices, the way a user gives them
 * (`pnpm exp generate`'s flags, the report playground's fields): each one given overrides the
 * trained config's, each one left out keeps it.
 */
import type { GenerateOptions } from './model.js';

export interface HeadChoices {
  /** Most new sentences. */
  maxSentences: number;
  /** Seeds the sampler's noise; the k-th sentence draws from seed + k. */
  seed: number;
  /** What goes back into the context: the predicted vector (default) or the re-encoding of its text. */
  feedback?: 'vector' | 'reencode';
  /** Diffusion heads: the classifier-free guidance scale (1 = conditional only). */
  guidance?: number;
  /** Diffusion heads: x_T = initialNoise * N(0, I) (the config's sampling.initialNoiseScale). */
  initialNoise?: number;
  /** Diffusion heads: DDIM steps (sampling.steps). */
  samplingSteps?: number;
  /** Diffusion heads: DDIM eta (sampling.eta; 0 = deterministic). */
  eta?: number;
}

/** The choices only a diffusion head's sampler reads (Base-LCM and the energy head have none). */
export const DIFFUSION_CHOICES = ['guidance', 'initialNoise', 'samplingSteps', 'eta'] as const;
export type DiffusionChoice = (typeof DIFFUSION_CHOICES)[number];

/** `ConceptModel.generate`'s options from the choices given. */
export function headGenerateOptions(c: HeadChoices): GenerateOptions {
  const out: GenerateOptions = { maxSentences: c.maxSentences, seed: c.seed };
  if (c.feedback !== undefined) out.feedback = c.feedback;
  if (c.guidance !== undefined) out.guidance = { scale: c.guidance };
  const sampling: NonNullable<GenerateOptions['sampling']> = {};
  if (c.samplingSteps !== undefined) sampling.steps = c.samplingSteps;
  if (c.eta !== undefined) sampling.eta = c.eta;
  if (c.initialNoise !== undefined) sampling.initialNoiseScale = c.initialNoise;
  if (Object.keys(sampling).length > 0) out.sampling = sampling;
  return out;
}

/** The first diffusion-only choice given, for a head that is not a diffusion head to refuse by name. */
export function diffusionChoiceGiven(c: Partial<Record<DiffusionChoice, unknown>>): DiffusionChoice | undefined {
  return DIFFUSION_CHOICES.find((k) => c[k] !== undefined);
}
