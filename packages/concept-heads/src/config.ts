/**
 * Config schemas of the four heads (strict: unknown keys fail). Defaults follow the LCM paper's
 * recipes scaled down (the energy head's generator, CALM's code); every field says what it does.
 */
import { z } from 'zod';

const positive = () => z.number().int().positive();

/** Fields every head has: the concept space, the normaliser, the end sentence and the stop rule. */
const commonFields = {
  seed: z.number().int().default(0).describe('Seeds parameter init, dropout, diffusion noise and sampling.'),
  dEmb: positive().default(256).describe("Embedding dimension of the concept space; must equal the codec's dim."),
  maxSentences: z.number().int().min(2).default(64).describe('Longest window of sentences the model reads (training windows and generation context).'),
  normalizer: z
    .enum(['robust', 'standard', 'none'])
    .default('robust')
    .describe('Embedding normaliser fitted on training embeddings: robust = median and IQR/1.349 (LCM), standard = mean/std, none.'),
  endSentence: z.string().min(1).default('End of text.').describe('Sentence appended to every training document; generating its embedding ends the text.'),
  stopThreshold: z
    .number()
    .min(-1)
    .max(1)
    .default(0.9)
    .describe('Generation stops when cosine(prediction, end-sentence embedding) >= this.'),
  maxGenerated: positive().default(16).describe('Generation stops after this many new sentences at the latest.'),
};

/** A causal transformer over concept vectors (Base-LCM's decoder, the contextualizer, the one-tower). */
const transformerFields = {
  dModel: positive().default(256).describe('Transformer width.'),
  heads: positive().default(4).describe('Attention heads (must divide dModel).'),
  mlpHidden: positive().nullable().default(null).describe('MLP hidden width; null = 4 * dModel (relu, gelu) or 8/3 * dModel rounded up to 8 (swiglu).'),
  activation: z.enum(['swiglu', 'gelu', 'relu']).default('swiglu').describe('MLP activation.'),
  norm: z.enum(['rms', 'layer']).default('rms').describe('RMSNorm (LCM) or LayerNorm.'),
  prenorm: z.boolean().default(true).describe('Pre-norm (LCM) or post-norm residual blocks.'),
  positional: z
    .enum(['rope', 'learned', 'sinusoidal', 'none'])
    .default('rope')
    .describe('Positions of the sentences: rotary (LCM), learned, fixed sinusoidal, or none.'),
  dropout: z.number().min(0).max(0.9).default(0.1).describe('Residual and attention dropout while training.'),
};

export const scheduleSchema = z
  .strictObject({
    kind: z.enum(['cosine', 'linear', 'sigmoid']).default('cosine').describe('Noise schedule shape.'),
    steps: z.number().int().min(2).default(100).describe('Training timesteps T (LCM: 100).'),
    zeroTerminalSnr: z.boolean().default(true).describe('Rescale so alphaBar(T) = 0: the last step is pure noise, as at sampling.'),
    cosineOffset: z.number().min(0).default(0.008).describe('cosine: offset s in cos^2((t/T + s)/(1 + s) * pi/2).'),
    betaStart: z.number().positive().max(1).default(0.0001).describe('linear: first beta.'),
    betaEnd: z.number().positive().max(1).default(0.02).describe('linear: last beta.'),
    sigmoidStart: z.number().default(-3).describe('sigmoid: start of the sigmoid input range.'),
    sigmoidEnd: z.number().default(3).describe('sigmoid: end of the sigmoid input range.'),
    sigmoidTau: z.number().positive().default(1).describe('sigmoid: temperature.'),
  })
  .describe('Diffusion noise schedule.');

export const guidanceSchema = z
  .strictObject({
    conditionDropout: z.number().min(0).max(1).default(0.15).describe('Share of training rows whose context is dropped (they learn the unconditional prediction).'),
    scale: z.number().min(0).default(3).describe('Classifier-free guidance scale at inference (1 = conditional only).'),
    rescale: z.number().min(0).max(1).default(0.7).describe('Guidance rescale phi (0 = off).'),
  })
  .describe('Classifier-free guidance.');

export const samplingSchema = z
  .strictObject({
    steps: positive().default(40).describe('DDIM steps at inference (<= schedule.steps).'),
    eta: z.number().min(0).default(0).describe('DDIM eta: 0 = deterministic, 1 = ancestral noise.'),
    spacing: z.enum(['trailing', 'leading']).default('trailing').describe('How inference timesteps are spread over the training ones.'),
    initialNoiseScale: z.number().positive().default(0.6).describe('x_T = initialNoiseScale * N(0, I) (LCM: 0.6).'),
  })
  .describe('DDIM sampler.');

const diffusionFields = {
  schedule: scheduleSchema.prefault({}),
  prediction: z.enum(['x0', 'epsilon', 'v']).default('x0').describe('What the denoiser predicts (LCM: x0); epsilon needs zeroTerminalSnr: false.'),
  timestepDim: positive().default(256).describe('Width of the sinusoidal timestep features.'),
  guidance: guidanceSchema.prefault({}),
  sampling: samplingSchema.prefault({}),
  posteriorTargets: z
    .boolean()
    .default(false)
    .describe(
      "Denoise one fresh draw of each target sentence's posterior (a variational SentenceVAE's) every step instead of its mean, so the head learns to sample what the SentenceVAE's decoder was trained to read (as CALM trains its energy head against posterior draws); the context stays the means.",
    ),
};

export const baseLcmConfigSchema = z
  .strictObject({
    kind: z.literal('base-lcm').default('base-lcm').describe('Base-LCM: regresses the next embedding with MSE.'),
    ...commonFields,
    ...transformerFields,
    layers: positive().default(4).describe('Decoder layers.'),
  })
  .describe('Base-LCM (MSE head) config.');

export const twoTowerConfigSchema = z
  .strictObject({
    kind: z.literal('two-tower').default('two-tower').describe('Two-tower diffusion LCM: contextualizer + denoiser.'),
    ...commonFields,
    ...transformerFields,
    contextLayers: positive().default(4).describe('Contextualizer layers (causal, over clean embeddings).'),
    denoiserLayers: positive().default(4).describe('Denoiser layers (AdaLN-zero, cross-attention to the context).'),
    ...diffusionFields,
  })
  .superRefine(refineDiffusion)
  .describe('Two-tower diffusion LCM config.');

export const oneTowerConfigSchema = z
  .strictObject({
    kind: z.literal('one-tower').default('one-tower').describe('One-tower diffusion LCM: one decoder over interleaved clean and noisy embeddings.'),
    ...commonFields,
    ...transformerFields,
    layers: positive().default(4).describe('Decoder layers.'),
    ...diffusionFields,
  })
  .superRefine(refineDiffusion)
  .describe('One-tower diffusion LCM config.');

export const energyGeneratorSchema = z
  .strictObject({
    blocks: positive().default(4).describe('Residual MLP blocks refining the noise (CALM: 4).'),
    noiseDim: positive().default(64).describe('Width of the uniform noise each sample starts from (CALM: 64).'),
    samples: z.number().int().min(2).default(8).describe('Samples drawn per target position for the energy score at training (CALM: 8).'),
    beta: z.number().gt(0).lt(2).default(1).describe('Distance exponent of the energy score, in (0, 2) where it is strictly proper (CALM: 1).'),
    targetDraws: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe(
        "Draws of each target sentence's posterior (a variational SentenceVAE's) the energy score is taken against at training, fresh every step (CALM: 100); 0 = the target embedding itself (a variational SentenceVAE's posterior mean).",
      ),
  })
  .describe('The generative head: an MLP from noise to a concept vector, conditioned on the hidden state.');

export const energyLcmConfigSchema = z
  .strictObject({
    kind: z.literal('energy').default('energy').describe('Energy head (CALM): a causal decoder and an MLP generator trained with the energy score.'),
    ...commonFields,
    ...transformerFields,
    layers: positive().default(4).describe('Decoder layers.'),
    generator: energyGeneratorSchema.prefault({}),
  })
  .describe('Energy-score head config (CALM, arXiv 2510.27688).');

function refineDiffusion(
  c: { prediction: string; schedule: { zeroTerminalSnr: boolean; steps: number }; sampling: { steps: number } },
  ctx: z.RefinementCtx,
): void {
  if (c.prediction === 'epsilon' && c.schedule.zeroTerminalSnr) {
    ctx.addIssue({ code: 'custom', path: ['prediction'], message: 'epsilon prediction has no x0 at alphaBar(T) = 0; use x0 or v, or set schedule.zeroTerminalSnr: false' });
  }
  if (c.sampling.steps > c.schedule.steps) {
    ctx.addIssue({ code: 'custom', path: ['sampling', 'steps'], message: `sampling.steps (${c.sampling.steps}) exceeds schedule.steps (${c.schedule.steps})` });
  }
}

export const conceptHeadConfigSchema = z
  .discriminatedUnion('kind', [baseLcmConfigSchema, twoTowerConfigSchema, oneTowerConfigSchema, energyLcmConfigSchema])
  .describe('A concept head (kind: base-lcm | two-tower | one-tower | energy).');

export type BaseLcmConfig = z.output<typeof baseLcmConfigSchema>;
export type TwoTowerConfig = z.output<typeof twoTowerConfigSchema>;
export type OneTowerConfig = z.output<typeof oneTowerConfigSchema>;
export type EnergyLcmConfig = z.output<typeof energyLcmConfigSchema>;
export type ConceptHeadConfig = z.output<typeof conceptHeadConfigSchema>;
export type DiffusionConfig = TwoTowerConfig | OneTowerConfig;
/** What a user may write (every field optional, defaults filled in by the schema). */
export type BaseLcmConfigInput = z.input<typeof baseLcmConfigSchema>;
export type TwoTowerConfigInput = z.input<typeof twoTowerConfigSchema>;
export type OneTowerConfigInput = z.input<typeof oneTowerConfigSchema>;
export type EnergyLcmConfigInput = z.input<typeof energyLcmConfigSchema>;
