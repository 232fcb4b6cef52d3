/**
 * `kind: token-lm` (the token-by-token baseline) and `kind: sllm` (the Sentence-level LLM over
 * SentenceVAE vectors). Both train on the same dataset and tokenizer, both score the same
 * held-out tokens (`scorer`: sentences 2..N of each document with their EOS), both
 * stream generated text and report their KV-cache bytes for the bench stage.
 */
import * as tf from '@tensorflow/tfjs-core';
import { sentenceBatches, tokenWindows, type DatasetDocument, type SentenceBatch, type TokenWindowBatch } from '@sentencelab/data';
import { decodeOptionsFrom } from '@sentencelab/sentence-vae';
import { sentenceLens, SLLM, sllmConfigSchema, TokenLM, tokenLmConfigSchema, type SllmBatch, type SllmConfig, type TokenLmConfig } from '@sentencelab/latent-lm';
import { z } from 'zod';
import { loadModel, loadModelConfig, meanLoss, saveModel } from '../train/fit.js';
import type { Trainable } from '../train/loop.js';
import { trainSchema } from '../train/schema.js';
import { epochStream } from '../train/streams.js';
import { datasetDirOf, loadData, promptSentences, tokenizerArtifact, validationBatches, type LoadedData } from './dataset.js';
import { trainStage } from '../train/train-stage.js';
import { FLOPS_OF_KEY, flopsWithUpstream } from '../pipeline/compute.js';
import { objectiveOf } from './matching.js';
import { modelSection } from './model-section.js';
import { firstSentence, SAMPLE_TOKENS, samplePrompts, textSamples } from './samples.js';
import { sentenceTokens, svaeModelConfig } from './svae.js';
import { CONCEPT_HEAD_KINDS, type Artifact, type GenerateOptions, type LensView, type Stage } from './types.js';

export const tokenLmStageSchema = z
  .strictObject({
    model: modelSection(tokenLmConfigSchema, { vocabSize: 'the tokenizer', specialIds: 'the tokenizer', seed: 'the pipeline seed' }),
    train: trainSchema.prefault({}),
    seqLen: z.number().int().positive().nullable().default(null).describe('tokens per training window; null = model.decoder.maxLen'),
  })
  .superRefine((c, ctx) => {
    const model = tokenLmConfigSchema.safeParse(c.model);
    if (!model.success || c.seqLen === null) return;
    const { maxLen, positions } = model.data.decoder;
    if (c.seqLen > maxLen) ctx.addIssue({ code: 'custom', path: ['seqLen'], message: `${c.seqLen} exceeds model.decoder.maxLen ${maxLen}` });
    // Positions past the training window would be scored and generated with untrained embeddings.
    if (c.seqLen < maxLen && positions === 'learned') {
      ctx.addIssue({ code: 'custom', path: ['seqLen'], message: `${c.seqLen} < model.decoder.maxLen ${maxLen}: learned positions ${c.seqLen}..${maxLen - 1} would never be trained (set seqLen to maxLen, or use null)` });
    }
  });

export const sllmStageSchema = z.strictObject({
  model: modelSection(sllmConfigSchema, { seed: 'the pipeline seed' }).describe(
    'SLLM options; model.svae is the SentenceVAE config when no svae input is given (its vocabulary, special ids and sentence length come from the tokenizer)',
  ),
  train: trainSchema.prefault({}),
});

/**
 * The SLLM's training and validation batches: documents in windows of decoder.maxLen sentences
 * that overlap by one (as `SLLM.scoreDocument` reads them), so every sentence after a
 * document's first is a next-sentence target exactly once. The data package's batches carry
 * docSentences, so the stop head learns where documents end.
 */
export function sllmBatches(
  docs: readonly DatasetDocument[],
  pad: number,
  o: { batchSize: number; maxLen: number; maxTokens: number; seed?: number; epoch?: number; shuffle?: boolean },
): Generator<SentenceBatch> {
  const { maxLen, ...rest } = o;
  return sentenceBatches(docs, pad, { ...rest, maxSentences: maxLen, overlap: 1 });
}

function windowTokens(b: TokenWindowBatch): number {
  let n = 0;
  for (const m of b.mask) n += m;
  return n;
}

/** Rebuilds a trained model from its artifact (eval mode); the caller disposes it. */
function loadTokenLm(artifact: Artifact): TokenLM {
  const { params, config } = loadModel<TokenLmConfig>(artifact.dir);
  const model = new TokenLM(config);
  model.loadParameters(params);
  tf.dispose([...params.values()]);
  return model.eval();
}

function loadSllm(artifact: Artifact): SLLM {
  const { params, config } = loadModel<SllmConfig>(artifact.dir);
  const model = new SLLM(config);
  model.loadParameters(params);
  tf.dispose([...params.values()]);
  return model.eval();
}

/** The first sentence a generator yields (consumes the rest: none is asked for). */
async function sampledSentence(sentences: AsyncIterable<number[]>): Promise<number[]> {
  const first = await firstSentence(sentences);
  if (first === undefined) throw new Error('sampleNext: the model generated no sentence');
  return first;
}

/** Token ids of each prompt sentence (the dataset's segmentation and tokenizer). */
async function promptIds(prompt: string, data: LoadedData): Promise<number[][]> {
  const tok = data.dataset.tokenizer;
  return (await promptSentences(prompt, data)).map((s) => tok.encodeSync(s));
}

export const tokenLmStage: Stage<typeof tokenLmStageSchema> = {
  kind: 'token-lm',
  description: 'train the token-by-token causal LM baseline',
  schema: tokenLmStageSchema,
  inputs: {
    tokenizer: { kinds: ['tokenizer'], description: 'the dataset and tokenizer to train on' },
    flopsOf: {
      kinds: ['svae', 'token-lm', 'sllm', ...CONCEPT_HEAD_KINDS],
      optional: true,
      recordOnly: true,
      description: "a compute-matched baseline: train as many steps as spend this stage's training FLOPs and those of the stages it builds on, in place of train.steps",
    },
  },
  packages: ['@sentencelab/latent-lm', '@sentencelab/sentence-vae', '@sentencelab/tensor', '@sentencelab/data', '@sentencelab/metrics'],
  trains: true,
  async run(ctx) {
    const c = ctx.config;
    const data = await loadData(datasetDirOf(tokenizerArtifact(ctx.inputs)));
    const config = tokenLmConfigSchema.parse({ ...c.model, vocabSize: data.vocabSize, specialIds: data.ids, seed: ctx.seed });
    const [train, validation] = await Promise.all([data.split('train'), data.split('validation')]);
    const windowOptions = { seqLen: c.seqLen ?? config.decoder.maxLen, batchSize: c.train.batchSize };
    const valBatches = validationBatches([...tokenWindows(validation, data.ids, { ...windowOptions, shuffle: false })], c.train.evalBatches, validation, ctx.name);
    const decode = (ids: number[]) => data.dataset.tokenizer.decodeSync(ids);
    const matched = ctx.inputs['flopsOf'] as Artifact | undefined;
    const flopBudget = matched ? { flops: flopsWithUpstream(matched), of: `stage ${matched.stage} with the stages it builds on` } : undefined;
    const { evalResults, files } = await trainStage(ctx, {
      build: () => new TokenLM(config),
      fit: (model) => {
        const trainable: Trainable<TokenWindowBatch> & { namedParameters: TokenLM['namedParameters'] } = {
          parameterMap: () => model.parameterMap(),
          namedParameters: () => model.namedParameters(),
          packLegacyParameters: (values) => model.packLegacyParameters(values),
          train: (on) => model.train(on),
          loss: (b) => model.loss(b),
        };
        ctx.log(`token LM: ${model.numParams()} parameters, d=${config.decoder.dModel}, ${config.decoder.layers} layers, token loss ${objectiveOf('token-lm', config)}`);
        return {
          model: trainable,
          train: c.train,
          batches: epochStream<TokenWindowBatch>({
            makeEpoch: (epoch) => tokenWindows(train, data.ids, { ...windowOptions, seed: ctx.seed, epoch }),
            tokens: windowTokens,
            what: `stage ${ctx.name}`,
          }),
          rngs: model.rngs,
          evaluate: async () => ({ loss: await meanLoss(trainable, valBatches) }),
          samples: textSamples(samplePrompts(validation), decode, 'token-lm', async (p) => (await firstSentence(model.generate([p], { maxSentences: 1, maxTokens: SAMPLE_TOKENS }))) ?? []),
          ...(flopBudget ? { flopBudget } : {}),
        };
      },
      results: (model, result) => ({ params: model.numParams(), val_loss: result.val['loss'] ?? null, train_tokens_per_s: result.tokensPerS, kv_bytes_per_token: model.kvBytesPerToken() }),
      save: (model, result) => saveModel(ctx.outDir, model.parameterMap(), config, result.step),
    });
    // The budget it matched (its own FLOPs are in meta.compute, as every stage's).
    const budget = matched ? { [FLOPS_OF_KEY]: { stage: matched.stage, flops: flopBudget!.flops } } : {};
    return { files, meta: { config, eval: evalResults, datasetDir: data.dataset.dir, ...budget } };
  },
  async scorer(artifact) {
    const model = loadTokenLm(artifact);
    return {
      scoreDocument: (d, o) => model.scoreDocument(d, o),
      contextLimit: { positions: model.config.decoder.maxLen },
      kv: model,
      sampleNext: (context, o) => sampledSentence(model.generate(context, { maxSentences: 1, maxTokens: o.maxTokens, strategy: 'sample', temperature: 1, seed: o.seed, documentStart: o.documentStart })),
      dispose: () => model.dispose(),
    };
  },
  async *generate(artifact, prompt, o: GenerateOptions) {
    const data = await loadData(String(artifact.meta['datasetDir']));
    const model = loadTokenLm(artifact);
    try {
      const ids = await promptIds(prompt, data);
      const options = { ...decodeOptionsFrom(o), maxSentences: o.maxSentences, maxTokens: o.maxTokens * o.maxSentences };
      for await (const s of model.generate(ids, options)) yield ` ${data.dataset.tokenizer.decodeSync(s)}`;
    } finally {
      model.dispose();
    }
  },
  async generator(artifact) {
    const model = loadTokenLm(artifact);
    return {
      // maxSentences never binds first: the budget is spent exactly.
      generate: (prompt, o) => model.generate(prompt, { maxSentences: o.maxTokens, maxTokens: o.maxTokens, ...(o.onCacheBytes ? { onCacheBytes: o.onCacheBytes } : {}) }),
      capacity: { positions: model.config.decoder.maxLen },
      kv: model,
      dispose: () => model.dispose(),
    };
  },
};

export const sllmStage: Stage<typeof sllmStageSchema> = {
  kind: 'sllm',
  description: 'train the Sentence-level LLM (causal decoder over SentenceVAE sentence vectors)',
  schema: sllmStageSchema,
  inputs: {
    tokenizer: { kinds: ['tokenizer'], description: 'the dataset and tokenizer to train on' },
    svae: { kinds: ['svae'], optional: true, description: 'initialise the SentenceVAE from this trained one (else it trains from scratch inside the SLLM)' },
  },
  packages: ['@sentencelab/latent-lm', '@sentencelab/sentence-vae', '@sentencelab/tensor', '@sentencelab/data', '@sentencelab/metrics'],
  trains: true,
  async run(ctx) {
    const c = ctx.config;
    const data = await loadData(datasetDirOf(tokenizerArtifact(ctx.inputs)));
    const svaeInput = ctx.inputs['svae'] as Artifact | undefined;
    if (svaeInput && 'svae' in c.model) throw new Error(`stage ${ctx.name}: model.svae is set but the SentenceVAE comes from input "svae"; remove one`);
    const svaeConfig = svaeInput ? loadModelConfig(svaeInput.dir) : svaeModelConfig((c.model['svae'] as Record<string, unknown> | undefined) ?? {}, data, ctx.seed);
    const config = sllmConfigSchema.parse({ ...c.model, svae: svaeConfig, seed: ctx.seed });
    const [train, validation] = await Promise.all([data.split('train'), data.split('validation')]);
    const batchOptions = { batchSize: c.train.batchSize, maxLen: config.decoder.maxLen, maxTokens: data.maxTokens };
    const valBatches = validationBatches([...sllmBatches(validation, data.ids.pad, { ...batchOptions, shuffle: false })], c.train.evalBatches, validation, ctx.name);
    const decode = (ids: number[]) => data.dataset.tokenizer.decodeSync(ids);
    const { evalResults, files } = await trainStage(ctx, {
      build: () => {
        const model = new SLLM(config);
        if (svaeInput) {
          const { params } = loadModel(svaeInput.dir);
          model.svae.loadParameters(params);
          tf.dispose([...params.values()]);
          ctx.log(`SentenceVAE initialised from stage ${svaeInput.stage}${config.freezeSvae ? ' (frozen)' : ' (fine-tuned)'}`);
        }
        return model;
      },
      fit: (model) => {
        const trainable: Trainable<SllmBatch> & { namedParameters: SLLM['namedParameters'] } = {
          parameterMap: () => model.parameterMap(),
          namedParameters: () => model.namedParameters().filter(([, v]) => v.trainable),
          train: (on) => model.train(on),
          loss: (b) => {
            const r = model.loss(b);
            return { loss: r.loss, metrics: { token_loss: r.metrics.tokenLoss, stop_loss: r.metrics.stopLoss } };
          },
        };
        ctx.log(
          `SLLM: ${model.numParams()} parameters (SentenceVAE ${model.svae.numParams()}), decoder d=${config.decoder.dModel} x ${config.decoder.layers} layers, token loss ${objectiveOf('sllm', config)}`,
        );
        return {
          model: trainable,
          train: c.train,
          batches: epochStream<SllmBatch>({
            makeEpoch: (epoch) => sllmBatches(train, data.ids.pad, { ...batchOptions, seed: ctx.seed, epoch }),
            tokens: sentenceTokens,
            what: `stage ${ctx.name}`,
          }),
          rngs: model.rngs,
          evaluate: async () => ({ loss: await meanLoss(trainable, valBatches) }),
          // stopThreshold above 1: always one sentence, as the token LM's.
          samples: textSamples(samplePrompts(validation), decode, 'sllm', async (p) =>
            (await firstSentence(model.generate([p], { maxSentences: 1, stopThreshold: 1.01, decode: { maxTokens: Math.min(SAMPLE_TOKENS, config.svae.maxTokens) } }))) ?? [],
          ),
        };
      },
      results: (model, result) => ({ params: model.numParams(), val_loss: result.val['loss'] ?? null, train_tokens_per_s: result.tokensPerS }),
      save: (model, result) => saveModel(ctx.outDir, model.parameterMap(), config, result.step),
    });
    return { files, meta: { config, eval: evalResults, datasetDir: data.dataset.dir } };
  },
  async scorer(artifact) {
    const model = loadSllm(artifact);
    return {
      scoreDocument: (d, o) => model.scoreDocument(d, o),
      contextLimit: { sentences: model.config.decoder.maxLen },
      kv: model,
      sampleNext: (context, o) =>
        sampledSentence(model.generate(context, { maxSentences: 1, stopThreshold: 1.01, decode: { strategy: 'sample', temperature: 1, maxTokens: o.maxTokens, seed: o.seed } })),
      dispose: () => model.dispose(),
    };
  },
  async *generate(artifact, prompt, o: GenerateOptions) {
    const data = await loadData(String(artifact.meta['datasetDir']));
    const model = loadSllm(artifact);
    try {
      const ids = await promptIds(prompt, data);
      for await (const s of model.generate(ids, { maxSentences: o.maxSentences, decode: decodeOptionsFrom(o) })) yield ` ${data.dataset.tokenizer.decodeSync(s)}`;
    } finally {
      model.dispose();
    }
  },
  async lens(artifact, text, o): Promise<LensView> {
    const data = await loadData(String(artifact.meta['datasetDir']));
    const model = loadSllm(artifact);
    try {
      const tok = data.dataset.tokenizer;
      const all = await promptSentences(text, data);
      const sentences = all.slice(0, model.config.decoder.maxLen);
      const grid = await sentenceLens(model, sentences.map((s) => tok.encodeSync(s)), { maxTokens: o.maxTokens });
      return {
        sentences,
        droppedSentences: all.length - sentences.length,
        targets: sentences.map((_, i) => sentences[i + 1] ?? null),
        cells: grid.cells.map((row) => row.map((c) => ({ text: tok.decodeSync(c.tokens), cosine: c.cosine, f1: c.f1 }))),
      };
    } finally {
      model.dispose();
    }
  },
  async generator(artifact) {
    const model = loadSllm(artifact);
    return {
      // The budget is spent exactly, as the token LM does: stopThreshold above 1, so the stop head never ends the
      // document, and minTokens 1, so no empty sentence does (an undertrained model's likeliest first token is often EOS).
      generate: (prompt, o) =>
        model.generate(prompt, { maxSentences: o.maxTokens, maxTokens: o.maxTokens, stopThreshold: 1.01, decode: { minTokens: 1 }, ...(o.onCacheBytes ? { onCacheBytes: o.onCacheBytes } : {}) }),
      capacity: { sentences: model.config.decoder.maxLen },
      kv: model,
      dispose: () => model.dispose(),
    };
  },
};
