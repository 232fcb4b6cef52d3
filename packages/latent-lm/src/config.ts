import { sentenceVaeConfigSchema, specialIdsSchema, tokenLossSchema } from '@sentencelab/sentence-vae';
import { z } from 'zod';

/** The causal decoder over a sequence of vectors that both models are built on. */
export const latentDecoderConfigSchema = z
  .strictObject({
    dModel: z.number().int().min(2).default(256).describe('Width of the decoder.'),
    layers: z.number().int().min(1).default(2).describe('Transformer layers.'),
    heads: z.number().int().min(1).default(4).describe('Attention heads; dModel must be divisible by it.'),
    mlpHidden: z.number().int().positive().nullable().default(null).describe('Feed-forward width; null = 4 x dModel.'),
    activation: z.enum(['relu', 'gelu', 'swiglu']).default('gelu').describe('Feed-forward activation.'),
    norm: z.enum(['layer', 'rms']).default('layer').describe('LayerNorm or RMSNorm.'),
    prenorm: z.boolean().default(true).describe('Pre-norm blocks (GPT-2/OPT style) or post-norm.'),
    positions: z
      .enum(['learned', 'sinusoidal', 'rotary'])
      .default('learned')
      .describe('Position encoding: learned table (OPT, what the SLLM inherits), fixed sinusoidal, or rotary in attention.'),
    maxLen: z.number().int().min(1).default(256).describe('Longest sequence (tokens for the token LM, sentences for the SLLM).'),
    dropout: z.number().min(0).max(0.9).default(0).describe('Residual and attention dropout in training.'),
  })
  .describe('Causal transformer decoder over a sequence of input vectors.');

export const tokenLmConfigSchema = z
  .strictObject({
    vocabSize: z.number().int().min(4).default(4096).describe('Vocabulary size (the tokenizer\'s).'),
    decoder: latentDecoderConfigSchema.prefault({}),
    tieOutput: z.boolean().default(true).describe('Output projection = the token embedding transposed.'),
    specialIds: specialIdsSchema.prefault({}),
    seed: z.number().int().default(0).describe('Seed of init and dropout.'),
  })
  .superRefine((c, ctx) => {
    if (c.decoder.dModel % c.decoder.heads !== 0) ctx.addIssue({ code: 'custom', path: ['decoder', 'heads'], message: `dModel ${c.decoder.dModel} is not divisible by heads ${c.decoder.heads}` });
    for (const [key, id] of Object.entries(c.specialIds)) {
      if (id >= c.vocabSize) ctx.addIssue({ code: 'custom', path: ['specialIds', key], message: `id ${id} is outside the vocabulary (size ${c.vocabSize})` });
    }
  })
  .describe('Token-by-token causal LM: the baseline every sentence-level model is compared with.');

export const sllmConfigSchema = z
  .strictObject({
    svae: sentenceVaeConfigSchema.prefault({}).describe('The SentenceVAE whose encoder reads the context sentences and whose decoder writes the next one.'),
    decoder: latentDecoderConfigSchema
      .prefault({ maxLen: 64 })
      .describe('The sentence-level decoder; maxLen = most sentences per window (the paper: 64).'),
    loss: tokenLossSchema('cross-entropy')
      .prefault({})
      .describe(
        'Token loss of the next-sentence decoding: cross-entropy by default, the token LM\'s objective, so the two compare; focal (the SentenceVAE paper\'s loss) only when asked for. The SentenceVAE\'s own loss.type does not carry over.',
      ),
    stopLossWeight: z.number().min(0).default(1).describe('Weight of the stop head\'s cross-entropy in the loss.'),
    freezeSvae: z.boolean().default(false).describe('Keep the SentenceVAE fixed (e.g. initialised from a trained checkpoint) and train only the sentence decoder and stop head.'),
    seed: z.number().int().default(0).describe('Seed of the sentence decoder\'s init and dropout (the SentenceVAE has its own).'),
  })
  .superRefine((c, ctx) => {
    if (c.decoder.dModel % c.decoder.heads !== 0) ctx.addIssue({ code: 'custom', path: ['decoder', 'heads'], message: `dModel ${c.decoder.dModel} is not divisible by heads ${c.decoder.heads}` });
  })
  .describe('Sentence-level LLM: a causal decoder over SentenceVAE sentence vectors that conditions the SentenceVAE decoder on the next sentence.');

export type LatentDecoderConfig = z.infer<typeof latentDecoderConfigSchema>;
export type TokenLmConfig = z.infer<typeof tokenLmConfigSchema>;
export type TokenLmConfigInput = z.input<typeof tokenLmConfigSchema>;
export type SllmConfig = z.infer<typeof sllmConfigSchema>;
export type SllmConfigInput = z.input<typeof sllmConfigSchema>;
