/**
 * `kind: svae`: trains a SentenceVAE on the training split's sentences; evaluates
 * reconstruction (token accuracy, exact match, per-token PPL, BLEU) on validation sentences,
 * and logs every evalEvery how much the vector carries (`val/recon_loss_own` vs
 * `val/recon_loss_shuffled`: decoder NLL with each sentence's own vector vs another's, and their
 * `val/recon_loss_gap`), and at the end how much noise the vectors take before half of that gap
 * is lost (`recon_noise_half`).
 * The artifact holds the weights and the full model config, so later stages (SLLM init, the
 * concept space of the LCM heads) rebuild exactly this model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { sentenceBatches, type SentenceBatch as DataSentenceBatch } from '@sentencelab/data';
import { bootstrapRatio, spreadPicks } from '@sentencelab/metrics';
import { intervalEntries } from '@sentencelab/runs';
import { SentenceVAE, sentenceVaeConfigSchema, vectorNoise, vectorUse, type SentenceVaeConfig, type VectorNoise } from '@sentencelab/sentence-vae';
import { Rng } from '@sentencelab/tensor';
import { z } from 'zod';
import { loadModel, meanLoss, saveModel } from '../train/fit.js';
import type { Trainable } from '../train/loop.js';
import { trainSchema } from '../train/schema.js';
import { epochStream } from '../train/streams.js';
import { svaeEmbeddings } from './embeddings.js';
import { datasetDirOf, loadData, tokenizerArtifact, validationBatches, type LoadedData } from './dataset.js';
import { trainStage } from '../train/train-stage.js';
import { modelSection } from './model-section.js';
import { SAMPLE_TOKENS, samplePrompts, textSamples } from './samples.js';
import type { Stage } from './types.js';

/** Model fields the pipeline sets: from the tokenizer, the data section and the seed. */
export const DERIVED_MODEL_FIELDS = {
  vocabSize: 'the tokenizer',
  specialIds: 'the tokenizer',
  maxTokens: 'data.segment.maxTokens',
  seed: 'the pipeline seed',
} as const;

export const svaeStageSchema = z.strictObject({
  model: modelSection(sentenceVaeConfigSchema, DERIVED_MODEL_FIELDS),
  train: trainSchema.prefault({}),
  maxSentences: z.number().int().positive().default(8).describe('sentences per document window; a batch is train.batchSize windows'),
  evalSentences: z.number().int().positive().default(256).describe('validation sentences scored for reconstruction at the end, an even share of each validation document'),
  resamples: z.number().int().positive().default(1000).describe('bootstrap resamples of the validation documents for the 95% intervals of reconstruction (seeded by the pipeline seed)'),
});
export type SvaeStageConfig = z.output<typeof svaeStageSchema>;

/** The full SentenceVAE config of this stage: its options plus what the pipeline derives. */
export function svaeModelConfig(options: Record<string, unknown>, data: LoadedData, seed: number): SentenceVaeConfig {
  return sentenceVaeConfigSchema.parse({ ...options, vocabSize: data.vocabSize, specialIds: data.ids, maxTokens: data.maxTokens, seed });
}

/** The stage log's line for {@link vectorNoise}: the share of the gap kept at each noise level, and where half is lost. */
export function vectorNoiseLine(noise: VectorNoise): string {
  const curve = noise.levels.map((l) => `${(100 * l.kept).toFixed(0)}% at ${l.sigma}`).join(', ');
  const half =
    noise.gap <= 0
      ? 'the vector carries nothing yet (gap <= 0)'
      : noise.half === null
        ? `half is kept even at ${noise.levels[noise.levels.length - 1]!.sigma}`
        : `half lost at noise ${noise.half.toPrecision(3)} x the vector's RMS`;
  return `vector noise (validation, gap ${noise.gap.toFixed(3)} nats): kept ${curve}; ${half}`;
}

/** Sentences of [B, S, L] batches, counted as the loss counts them: real tokens + one EOS each. */
export function sentenceTokens(b: { lengths: ArrayLike<number> }): number {
  let n = 0;
  for (let i = 0; i < b.lengths.length; i++) if (b.lengths[i]! > 0) n += b.lengths[i]! + 1;
  return n;
}

/** What a variational SentenceVAE's validation measures beside its training objective. */
export interface VariationalValidation {
  /** (reconstruction NLL of a posterior sample + KL at full weight) / tokens, nats. */
  negElboPerToken: number;
  /** KL(q(z | x) || N(0, I)) per sentence, nats: what a sampled vector can carry (~0: posterior collapse). */
  klPerSentence: number;
}

/**
 * The variational SentenceVAE's negative ELBO per token and KL per sentence over fixed batches,
 * summed over every batch and read back with one asynchronous read. The sample noise starts
 * from `seed` on every call, so successive evaluations differ by the model only.
 */
export async function variationalValidation(model: SentenceVAE, batches: readonly DataSentenceBatch[], seed: number): Promise<VariationalValidation> {
  if (batches.length === 0) return { negElboPerToken: NaN, klPerSentence: NaN };
  const noise = new Rng(seed);
  let tokens = 0;
  let sentences = 0;
  const sums = batches.map((b) => {
    const r = model.elbo(b, { noise });
    tokens += r.tokens;
    sentences += r.sentences;
    const pair = tf.stack([r.nll, r.kl]);
    tf.dispose([r.nll, r.kl]);
    return pair;
  });
  // [batches, 2] -> [2]: nll, kl
  const total = tf.tidy(() => tf.sum(tf.stack(sums), 0));
  tf.dispose(sums);
  try {
    const [nll, kl] = await total.data();
    return { negElboPerToken: (nll! + kl!) / tokens, klPerSentence: kl! / sentences };
  } finally {
    total.dispose();
  }
}

/** Rebuilds the trained SentenceVAE of an svae artifact (eval mode). */
export function loadSvae(artifactDir: string): SentenceVAE {
  const { params, config } = loadModel<SentenceVaeConfig>(artifactDir);
  const model = new SentenceVAE(config);
  model.loadParameters(params);
  tf.dispose([...params.values()]);
  return model.eval();
}

export const svaeStage: Stage<typeof svaeStageSchema> = {
  kind: 'svae',
  description: 'train a SentenceVAE (sentence -> one vector -> sentence)',
  schema: svaeStageSchema,
  inputs: { tokenizer: { kinds: ['tokenizer'], description: 'the dataset and tokenizer to train on' } },
  packages: ['@sentencelab/sentence-vae', '@sentencelab/tensor', '@sentencelab/data', '@sentencelab/metrics'],
  trains: true,
  // Read only by the reconstruction figures after training: more sentences or resamples evaluate the trained SentenceVAE again.
  evalOnly: ['evalSentences', 'resamples'],
  async run(ctx) {
    const c = ctx.config;
    const data = await loadData(datasetDirOf(tokenizerArtifact(ctx.inputs)));
    const [train, validation] = await Promise.all([data.split('train'), data.split('validation')]);
    const config = svaeModelConfig(c.model, data, ctx.seed);
    const batchOptions = { batchSize: c.train.batchSize, maxSentences: c.maxSentences, maxTokens: data.maxTokens };
    const valBatches = validationBatches([...sentenceBatches(validation, data.ids.pad, { ...batchOptions, shuffle: false })], c.train.evalBatches, validation, ctx.name);
    // Spread over the validation documents (an even share of each): the first N sentences sit in one
    // or two long documents, which neither represent the split nor give an interval over documents.
    const evalPicks = spreadPicks(validation.map((d) => d.sentences.length), c.evalSentences);
    const evalSentences = evalPicks.flatMap((picks, d) => picks.map((i) => Array.from(validation[d]!.sentences[i]!)));
    if (evalSentences.length === 0) {
      throw new Error(`stage ${ctx.name}: the validation split has no sentence to score reconstruction on (${validation.length} documents; raise data.split.validation or data.source.limit)`);
    }
    const decode = (ids: number[]) => data.dataset.tokenizer.decodeSync(ids);
    const { evalResults, files } = await trainStage(ctx, {
      build: () => new SentenceVAE(config),
      fit: (model) => {
        const trainable: Trainable<DataSentenceBatch> & { namedParameters: SentenceVAE['namedParameters'] } = {
          parameterMap: () => model.parameterMap(),
          namedParameters: () => model.namedParameters(),
          packLegacyParameters: (values) => model.packLegacyParameters(values),
          train: (on) => model.train(on),
          loss: (b, step) => {
            const r = model.loss(b, { step });
            return { loss: r.loss, metrics: { recon: r.metrics.recon, kl: r.metrics.kl } };
          },
        };
        ctx.log(`SentenceVAE: ${model.numParams()} parameters, d=${config.dModel}, ${train.length} training documents`);
        return {
          model: trainable,
          train: c.train,
          batches: epochStream<DataSentenceBatch>({
            makeEpoch: (epoch) => sentenceBatches(train, data.ids.pad, { ...batchOptions, seed: ctx.seed, epoch }),
            tokens: sentenceTokens,
            what: `stage ${ctx.name}`,
          }),
          rngs: model.rngs,
          // val loss is the training objective at this step's KL weight; neg_elbo is the real one.
          // recon_loss_gap is how much the vector carries: ~0 while the decoder ignores it (a plain LM).
          evaluate: async (step) => {
            const use = await vectorUse(model, valBatches);
            const loss = await meanLoss(trainable, valBatches, step);
            const variational = config.variational ? await variationalValidation(model, valBatches, ctx.seed) : undefined;
            return {
              loss,
              ...(variational ? { neg_elbo: variational.negElboPerToken, kl: variational.klPerSentence } : {}),
              recon_loss_own: use.own,
              recon_loss_shuffled: use.shuffled,
              recon_loss_gap: use.gap,
            };
          },
          samples: textSamples(samplePrompts(validation), decode, 'svae', async (p) => (await model.reconstruct([p], { maxTokens: Math.min(SAMPLE_TOKENS, config.maxTokens) }))[0]!),
        };
      },
      results: async (model, result) => {
        const recon = await model.reconstructionMetrics(evalSentences, { groups: evalPicks.map((p) => p.length) });
        const noise = await vectorNoise(model, valBatches, { seed: ctx.seed });
        // 95% intervals over the validation documents the sentences come from (none from a single document).
        const perDoc = recon.byGroup!.filter((g) => g.sentences > 0);
        const ciOptions = { resamples: c.resamples, seed: ctx.seed };
        const tokCi = bootstrapRatio(perDoc.map((g) => ({ num: g.tokenAccuracy * g.tokens, den: g.tokens })), ciOptions);
        const exactCi = bootstrapRatio(perDoc.map((g) => ({ num: g.exactMatch * g.sentences, den: g.sentences })), ciOptions);
        const evalResults = {
          params: model.numParams(),
          recon_token_acc: recon.tokenAccuracy,
          ...intervalEntries('recon_token_acc', tokCi),
          recon_exact_match: recon.exactMatch,
          ...intervalEntries('recon_exact_match', exactCi),
          recon_ppl: recon.perplexity,
          recon_bleu: recon.bleu,
          recon_sentences: recon.sentences,
          recon_noise_half: noise.half,
          val_loss: result.val['loss'] ?? null,
          ...(config.variational ? { val_neg_elbo: result.val['neg_elbo'] ?? null, val_kl: result.val['kl'] ?? null } : {}),
          train_tokens_per_s: result.tokensPerS,
        };
        ctx.run!.writeEmbeddings(await svaeEmbeddings(model, validation, result.step));
        ctx.log(`reconstruction on ${recon.sentences} validation sentences from ${perDoc.length} documents: token acc ${recon.tokenAccuracy.toFixed(3)}, exact ${recon.exactMatch.toFixed(3)}, PPL ${recon.perplexity.toFixed(2)}`);
        ctx.log(vectorNoiseLine(noise));
        return evalResults;
      },
      save: (model, result) => saveModel(ctx.outDir, model.parameterMap(), config, result.step),
    });
    return { files, meta: { config, eval: evalResults, dModel: config.dModel } };
  },
};
