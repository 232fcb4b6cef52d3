/**
 * `kind: lcm-mse` and `kind: lcm-diffusion`: Large-Concept-Model heads over the frozen
 * SentenceVAE embedding space. Documents are encoded sentence by sentence with the trained
 * SVAE encoder (from the same token ids the SVAE trained on), the normaliser is fitted on the
 * training embeddings, and the head learns to predict the next sentence's embedding.
 * Evaluation on test documents: L2 to the true next embedding, contrastive accuracy (0.5 =
 * chance) and round-trip L2 (decode to text with the SVAE, re-encode, compare).
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  BaseLcm,
  baseLcmConfigSchema,
  conceptBatches,
  conceptLens,
  contrastiveAccuracy,
  disposeBatch,
  fitConceptSpace,
  loadConceptHead,
  saveConceptHead,
  nextEmbeddingL2,
  OneTowerLcm,
  oneTowerConfigSchema,
  roundTripL2,
  TwoTowerLcm,
  twoTowerConfigSchema,
  type ConceptBatch,
  type ConceptCodec,
  type ConceptModel,
} from '@sentencelab/concept-heads';
import type { DatasetDocument } from '@sentencelab/data';
import { tokenF1 } from '@sentencelab/latent-lm';
import { Rng } from '@sentencelab/tensor';
import type { SentenceVAE } from '@sentencelab/sentence-vae';
import { z } from 'zod';
import { fit, meanLoss } from '../train/fit.js';
import type { Trainable } from '../train/loop.js';
import { trainSchema } from '../train/schema.js';
import { epochStream } from '../train/streams.js';
import { datasetDirOf, loadData, pickDocuments, promptSentences, tokenizerArtifact, validationBatches, type LoadedData } from './dataset.js';
import { modelSection } from './model-section.js';
import { loadSvae } from './svae.js';
import type { Artifact, GenerateOptions, LensView, Stage, StageContext } from './types.js';

const DERIVED = { dEmb: 'the SentenceVAE (its dModel)', seed: 'the pipeline seed' } as const;

const common = {
  train: trainSchema.prefault({}),
  evalDocuments: z.number().int().positive().default(32).describe('test documents whose next-sentence embeddings are scored'),
  roundTripSentences: z.number().int().positive().default(64).describe('predicted embeddings decoded and re-encoded for round-trip L2'),
};

export const lcmMseStageSchema = z.strictObject({
  model: modelSection(baseLcmConfigSchema, { ...DERIVED, kind: 'the stage kind (base-lcm)' }),
  ...common,
});

const diffusionModelSchema = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && !('kind' in v) ? { kind: 'two-tower', ...v } : v),
  z.discriminatedUnion('kind', [twoTowerConfigSchema, oneTowerConfigSchema]),
);

export const lcmDiffusionStageSchema = z.strictObject({
  model: modelSection(diffusionModelSchema, DERIVED).describe('diffusion head options; model.kind: two-tower (default) | one-tower'),
  ...common,
});

const inputs = {
  tokenizer: { kinds: ['tokenizer'], description: 'the dataset (documents as token ids)' },
  svae: { kinds: ['svae'], description: 'the frozen SentenceVAE whose embeddings are the concept space' },
} as const;

/** The SentenceVAE + tokenizer as a concept codec (text <-> vectors). */
export function svaeCodec(svae: SentenceVAE, data: LoadedData): ConceptCodec {
  const tok = data.dataset.tokenizer;
  return {
    dim: svae.config.dModel,
    async encode(sentences) {
      const ids = sentences.map((s) => {
        const t = tok.encodeSync(s).slice(0, svae.config.maxTokens);
        return t.length > 0 ? t : [tok.eos];
      });
      return await rows(svae.encode(ids));
    },
    async decode(vectors) {
      const x = tf.tensor2d(concat(vectors), [vectors.length, svae.config.dModel]);
      try {
        return await svae.decodeText(x, tok);
      } finally {
        x.dispose();
      }
    },
  };
}

function concat(vs: Float32Array[]): Float32Array {
  const d = vs[0]?.length ?? 0;
  const out = new Float32Array(vs.length * d);
  vs.forEach((v, i) => out.set(v, i * d));
  return out;
}

/** [n, d] tensor -> n vectors, read asynchronously (disposes the tensor). */
async function rows(t: tf.Tensor2D): Promise<Float32Array[]> {
  const [n, d] = t.shape;
  let flat: Float32Array;
  try {
    flat = (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
}

/** Each document's sentences as SVAE embeddings, encoded from their token ids in chunks. */
export async function embedDocuments(svae: SentenceVAE, docs: readonly DatasetDocument[]): Promise<Float32Array[][]> {
  const out: Float32Array[][] = [];
  for (const doc of docs) {
    const vectors: Float32Array[] = [];
    for (let i = 0; i < doc.sentences.length; i += 256) {
      vectors.push(...(await rows(svae.encode(doc.sentences.slice(i, i + 256).map((s) => Array.from(s))))));
    }
    out.push(vectors);
  }
  return out;
}

function svaeArtifact(inputs: Record<string, Artifact | Artifact[]>): Artifact {
  const a = inputs['svae'];
  if (!a || Array.isArray(a)) throw new Error('input "svae" must be one svae stage');
  return a;
}

async function runHead(ctx: StageContext<z.output<typeof lcmMseStageSchema>>, kind: 'base-lcm' | 'diffusion'): Promise<{ files: Record<string, string>; meta: Record<string, unknown> }> {
  const c = ctx.config;
  const data = await loadData(datasetDirOf(tokenizerArtifact(ctx.inputs)));
  const svaeInput = svaeArtifact(ctx.inputs);
  const svae = loadSvae(svaeInput.dir);
  const codec = svaeCodec(svae, data);
  const [trainDocs, valDocs, testDocs] = await Promise.all([data.split('train'), data.split('validation'), data.split('test')]);
  ctx.log(`encoding ${trainDocs.length} training documents with the frozen SentenceVAE`);
  const train = await embedDocuments(svae, trainDocs);
  const val = await embedDocuments(svae, valDocs.filter((d) => d.sentences.length >= 1));
  const raw = { ...c.model, dEmb: svae.config.dModel, seed: ctx.seed };
  const configInput = kind === 'base-lcm' ? { ...raw, kind: 'base-lcm' } : { kind: 'two-tower', ...raw };
  const probe = kind === 'base-lcm' ? baseLcmConfigSchema.parse(configInput) : diffusionModelSchema.parse(configInput);
  const space = await fitConceptSpace(codec, train, { normalizer: probe.normalizer, endSentence: probe.endSentence });
  const model: ConceptModel =
    probe.kind === 'base-lcm' ? new BaseLcm(probe, space) : probe.kind === 'two-tower' ? new TwoTowerLcm(probe, space) : new OneTowerLcm(probe, space);
  const windowOptions = { maxSentences: probe.maxSentences, endVector: space.endVector };
  const batches = epochStream<ConceptBatch>({
    makeEpoch: (epoch) => conceptBatches(train, { ...windowOptions, batchSize: c.train.batchSize, rng: new Rng(ctx.seed * 1000 + epoch) }),
    tokens: (b) => b.mask.shape[0] * b.mask.shape[1],
    dispose: disposeBatch,
    what: `stage ${ctx.name}`,
  });
  const valBatches = validationBatches([...conceptBatches(val, { ...windowOptions, batchSize: c.train.batchSize })].slice(0, c.train.evalBatches), valDocs, ctx.name);
  const trainable: Trainable<ConceptBatch> & { namedParameters: ConceptModel['namedParameters'] } = {
    parameterMap: () => model.parameterMap(),
    namedParameters: () => model.namedParameters(),
    train: (on) => model.train(on),
    loss: (b) => model.loss(b),
  };
  ctx.log(`${probe.kind}: ${model.numParams()} parameters over ${svae.config.dModel}-d SentenceVAE embeddings`);
  const result = await fit(ctx, { model: trainable, train: c.train, batches, rngs: { model: model.rng }, evaluate: async () => ({ loss: await meanLoss(trainable, valBatches) }) });
  valBatches.forEach(disposeBatch);

  const evalDocs = pickDocuments(testDocs, c.evalDocuments, 2);
  if (evalDocs.length === 0) throw new Error(`stage ${ctx.name}: the test split has no document with 2 or more sentences (${testDocs.length} documents; raise data.split.test)`);
  const evalResults = await evaluateHead(model, codec, await embedDocuments(svae, evalDocs), c.roundTripSentences, c.train.batchSize);
  Object.assign(evalResults, { params: model.numParams(), eval_documents: evalDocs.length, val_loss: result.val['loss'] ?? null });
  ctx.run!.writeSummary(evalResults);
  ctx.log(`test: L2 ${evalResults.l2.toFixed(4)}, contrastive acc ${evalResults.contrastive_acc.toFixed(3)}, round-trip L2 ${evalResults.roundtrip_l2.toFixed(4)}`);
  await saveConceptHead(join(ctx.outDir, 'head.safetensors'), model, { step: result.step });
  model.dispose();
  svae.dispose();
  return { files: { head: 'head.safetensors' }, meta: { config: probe, eval: evalResults, svaeDir: svaeInput.dir, datasetDir: data.dataset.dir } };
}

/** L2 / contrastive accuracy over teacher-forced predictions, round trip over some of them. */
async function evaluateHead(
  model: ConceptModel,
  codec: ConceptCodec,
  docs: Float32Array[][],
  roundTrip: number,
  batchSize: number,
): Promise<{ l2: number; l2_normalized: number | null; contrastive_acc: number; roundtrip_l2: number; eval_targets: number }> {
  const predictions: Float32Array[] = [];
  const targets: Float32Array[] = [];
  for (const b of conceptBatches(docs, { maxSentences: model.config.maxSentences, endVector: null, batchSize })) {
    const p = await model.predictBatch(b);
    predictions.push(...p.predictions);
    targets.push(...p.targets);
    disposeBatch(b);
  }
  if (predictions.length < 2) throw new Error(`evaluation needs at least 2 target sentences in the test documents, got ${predictions.length}`);
  const l2 = nextEmbeddingL2(predictions, targets, model.normalizer);
  const rt = await roundTripL2(predictions.slice(0, roundTrip), codec, model.normalizer);
  return { l2: l2.raw, l2_normalized: l2.normalized, contrastive_acc: contrastiveAccuracy(predictions, targets), roundtrip_l2: rt.raw, eval_targets: predictions.length };
}

/** Streams sentences continuing `prompt` (segmented by the data section's rules) from a head artifact. */
async function* generateFromHead(artifact: Artifact, prompt: string, o: GenerateOptions): AsyncGenerator<string> {
  const svae = loadSvae(String(artifact.meta['svaeDir']));
  const data = await loadData(String(artifact.meta['datasetDir']));
  const { model } = loadConceptHead(join(artifact.dir, 'head.safetensors'));
  try {
    const sentences = await promptSentences(prompt, data);
    for await (const s of model.generate(svaeCodec(svae, data), sentences, { maxSentences: o.maxSentences, seed: o.seed })) yield ` ${s.text}`;
  } finally {
    model.dispose();
    svae.dispose();
  }
}

/**
 * SentenceLens of a Base-LCM head (`pnpm exp lens`): each layer's prediction decoded by the
 * SVAE, scored with its cosine to the true next sentence's embedding and the token F1 of its
 * decoding (the SLLM lens's scores).
 */
async function lensOfHead(artifact: Artifact, text: string): Promise<LensView> {
  const svae = loadSvae(String(artifact.meta['svaeDir']));
  const data = await loadData(String(artifact.meta['datasetDir']));
  const { model } = loadConceptHead(join(artifact.dir, 'head.safetensors'));
  try {
    if (!(model instanceof BaseLcm)) throw new Error(`${artifact.dir}: only Base-LCM (lcm-mse) heads have a lens; a diffusion head's layers denoise, they hold no prediction`);
    const tok = data.dataset.tokenizer;
    const all = await promptSentences(text, data);
    const sentences = all.slice(0, model.maxContext);
    const grid = await conceptLens(model, svaeCodec(svae, data), sentences);
    return {
      sentences,
      droppedSentences: all.length - sentences.length,
      targets: grid.targets,
      cells: grid.cells.map((row) =>
        row.map((c, i) => {
          const target = grid.targets[i];
          return { text: c.text, cosine: c.cosine, f1: target === null || target === undefined ? null : tokenF1(tok.encodeSync(c.text), tok.encodeSync(target)) };
        }),
      ),
    };
  } finally {
    model.dispose();
    svae.dispose();
  }
}

const packages = ['@sentencelab/concept-heads', '@sentencelab/sentence-vae', '@sentencelab/tensor', '@sentencelab/data'] as const;

export const lcmMseStage: Stage<typeof lcmMseStageSchema> = {
  kind: 'lcm-mse',
  description: 'Base-LCM: regress the next sentence embedding (MSE)',
  schema: lcmMseStageSchema,
  inputs,
  packages,
  trains: true,
  run: (ctx) => runHead(ctx, 'base-lcm'),
  generate: generateFromHead,
  lens: lensOfHead,
};

export const lcmDiffusionStage: Stage<typeof lcmDiffusionStageSchema> = {
  kind: 'lcm-diffusion',
  description: 'diffusion LCM (two-tower or one-tower): denoise the next sentence embedding',
  schema: lcmDiffusionStageSchema,
  inputs,
  packages,
  trains: true,
  run: (ctx) => runHead(ctx as StageContext<z.output<typeof lcmMseStageSchema>>, 'diffusion'),
  generate: generateFromHead,
};
