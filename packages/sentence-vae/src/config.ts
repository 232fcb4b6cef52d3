import { z } from 'zod';

/** Fields shared by the encoder and decoder transformer stacks. */
const stackFields = {
  layers: z.number().int().min(1).default(1).describe('Transformer layers (the paper\'s "H1/H2/H4" = 1, 2, 4).'),
  heads: z.number().int().min(1).default(4).describe('Attention heads; dModel must be divisible by it.'),
  ffnDim: z.number().int().positive().nullable().default(null).describe('Feed-forward hidden width; null = 2 x dModel (the paper).'),
  normPlacement: z
    .enum(['post', 'pre'])
    .default('post')
    .describe('post = norm after each residual add (the paper, PyTorch nn.Transformer default); pre = GPT-2 style, with a final norm.'),
  normType: z.enum(['layer', 'rms']).default('layer').describe('LayerNorm (the paper) or RMSNorm inside the blocks.'),
  activation: z.enum(['relu', 'gelu', 'swiglu']).default('relu').describe('Feed-forward activation (the paper: relu).'),
  positions: z
    .enum(['sinusoidal', 'learned'])
    .default('sinusoidal')
    .describe('Absolute positions added to the token embeddings: fixed sinusoids (the paper) or a learned table.'),
  dropout: z.number().min(0).max(0.9).default(0.1).describe('Residual and attention dropout in training (the paper: 0.1).'),
};

export const poolingKinds = ['sum', 'mean', 'learnable-add', 'attention'] as const;
export type PoolingKind = (typeof poolingKinds)[number];

export const encoderConfigSchema = z
  .strictObject({
    ...stackFields,
    pooling: z
      .enum(poolingKinds)
      .default('sum')
      .describe(
        'Token states -> one vector: sum (the paper\'s shipped configs), mean, learnable-add (per-token scalar weight from Linear(d, 1), unnormalised: the paper\'s option), attention (a learned query attends over the tokens).',
      ),
    tokenDropout: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe(
        'Training the SentenceVAE only: each input token of a sentence is replaced by the pad id with this probability before the encoder reads it (CALM masks 15%), so the vector cannot hang on any one token; an SLLM built on the model fine-tunes without it; 0 = off (the paper).',
      ),
  })
  .describe('Sentence encoder: tokens -> transformer -> pooling -> LayerNorm -> one vector.');

export const decoderConfigSchema = z
  .strictObject({
    ...stackFields,
    memorySlots: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe('Cross-attention memory length: 1 = the sentence vector itself (the paper); k > 1 = a Linear(d, k*d) expands it to k slots.'),
    tieOutput: z.boolean().default(false).describe('Output projection = the decoder token embedding transposed (false: a separate Linear, as the paper).'),
    wordDropout: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe(
        'Training only: each teacher-forced input token (not the BOS) is replaced by the pad id with this probability (Bowman et al. 2016), so the decoder has to read the vector; 0 = off (the paper).',
      ),
  })
  .describe('Sentence decoder: causal transformer cross-attending to the sentence vector -> vocabulary logits.');

/**
 * A token-loss section whose `type` defaults to `defaultType`: the SentenceVAE's defaults to
 * focal (the paper), the SLLM's to cross-entropy (the token LM's objective, so the two compare).
 */
export function tokenLossSchema(defaultType: 'focal' | 'cross-entropy') {
  return z.strictObject({
    type: z
      .enum(['focal', 'cross-entropy'])
      .default(defaultType)
      .describe(`Token loss: focal (the SentenceVAE paper) or plain cross-entropy; default ${defaultType}.`),
    gamma: z.number().min(0).default(2).describe('Focal-loss exponent: loss = -(1 - p)^gamma log p (gamma 0 = cross-entropy).'),
  });
}

export const lossConfigSchema = tokenLossSchema('focal').describe('Reconstruction loss over the real tokens + EOS of every sentence.');

export const klConfigSchema = z
  .strictObject({
    weight: z.number().min(0).default(1).describe('Final KL weight beta (1 = the ELBO).'),
    annealSteps: z.number().int().min(0).default(0).describe('Linear warm-up of beta from 0 over this many steps; 0 = full weight from step 0 (a 200-step warm-up let the KL swing early, which cost reconstruction on Brown, not on SOTU: docs/results/README.md).'),
    freeBits: z
      .number()
      .min(0)
      .default(0)
      .describe('Free bits per latent dimension (nats): each dimension\'s KL (its batch mean, or each sentence\'s: freeBitsPer) counts as at least this much, so it is not pushed below it.'),
    freeBitsPer: z
      .enum(['batch', 'sentence'])
      .default('batch')
      .describe('Where free bits clamp: batch = each dimension\'s batch-mean KL (Kingma et al. 2016); sentence = each sentence\'s KL in each dimension, as CALM does (its kl_clamp).'),
  })
  .describe('KL term of the variational mode (ignored when variational is false).');

export const specialIdsSchema = z
  .strictObject({
    pad: z.number().int().min(0).default(0).describe('Padding token id (take it from the tokenizer).'),
    bos: z.number().int().min(0).default(1).describe('Beginning-of-sentence id fed as the decoder\'s first input.'),
    eos: z.number().int().min(0).default(2).describe('End-of-sentence id: the decoder\'s last target; decoding stops on it.'),
  })
  .describe('Special token ids (from the tokenizer).');

export const sentenceVaeConfigSchema = z
  .strictObject({
    vocabSize: z.number().int().min(4).default(4096).describe('Vocabulary size (the tokenizer\'s).'),
    dModel: z.number().int().min(2).default(256).describe('Model width = sentence-vector width (the paper: 768 / 1024 / 2048).'),
    maxTokens: z.number().int().min(1).default(64).describe('Longest sentence in tokens, EOS not counted (the paper: 64).'),
    encoder: encoderConfigSchema.prefault({}),
    decoder: decoderConfigSchema.prefault({}),
    shareEmbeddings: z.boolean().default(false).describe('One token-embedding table for encoder and decoder (the paper: separate).'),
    variational: z
      .boolean()
      .default(false)
      .describe('true: a real VAE (mean and log-variance heads, reparameterised sample, KL term); false: the paper\'s plain autoencoder.'),
    kl: klConfigSchema.prefault({}),
    latentNoise: z
      .number()
      .min(0)
      .default(0)
      .describe(
        "Training only: Gaussian noise of this many times each sentence vector's RMS is added to the vector the decoder reads (to the reparameterised sample when variational), so the decoder learns to read vectors that are off, as a predicted one is; the units of recon_noise_half; 0 = off (the paper).",
      ),
    latentDropout: z
      .number()
      .min(0)
      .max(0.9)
      .default(0)
      .describe(
        'Training the SentenceVAE only: inverted dropout of this rate on the vector the decoder reads (after the reparameterised sample and any latentNoise), as CALM does (0.15), so the decoder cannot rely on any one coordinate; 0 = off (the paper).',
      ),
    loss: lossConfigSchema.prefault({}),
    specialIds: specialIdsSchema.prefault({}),
    seed: z.number().int().default(0).describe('Seed of parameter init, dropout, token dropout, the reparameterisation noise, the latent noise and the latent dropout.'),
  })
  .superRefine((c, ctx) => {
    for (const part of ['encoder', 'decoder'] as const) {
      if (c.dModel % c[part].heads !== 0) {
        ctx.addIssue({ code: 'custom', path: [part, 'heads'], message: `dModel ${c.dModel} is not divisible by ${part}.heads ${c[part].heads}` });
      }
    }
    if (c.encoder.positions === 'sinusoidal' || c.decoder.positions === 'sinusoidal') {
      if (c.dModel % 2 !== 0) ctx.addIssue({ code: 'custom', path: ['dModel'], message: `sinusoidal positions need an even dModel, got ${c.dModel}` });
    }
    for (const [key, id] of Object.entries(c.specialIds)) {
      if (id >= c.vocabSize) ctx.addIssue({ code: 'custom', path: ['specialIds', key], message: `id ${id} is outside the vocabulary (size ${c.vocabSize})` });
    }
  })
  .describe('SentenceVAE model config.');

export type SentenceVaeConfig = z.infer<typeof sentenceVaeConfigSchema>;
export type SentenceVaeConfigInput = z.input<typeof sentenceVaeConfigSchema>;
export type EncoderConfig = SentenceVaeConfig['encoder'];
export type DecoderConfig = SentenceVaeConfig['decoder'];
export type LossConfig = SentenceVaeConfig['loss'];
export type KlConfig = SentenceVaeConfig['kl'];
export type FreeBitsPer = KlConfig['freeBitsPer'];
