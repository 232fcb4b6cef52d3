/**
 * `kind: lcm-mse`, `kind: lcm-diffusion` and `kind: lcm-energy`: Large-Concept-Model heads (and
 * CALM's energy head) over the frozen SentenceVAE embedding space. Documents are encoded
 * sentence by sentence with the trained SVAE encoder (from the same token ids the SVAE trained
 * on), the normaliser is fitted on the training embeddings, and the head learns to predict the
 * next sentence's embedding.
 * Evaluation on test documents: L2 to the true next embedding and contrastive accuracy (0.5 =
 * chance), each beside two baselines on the same targets (copy the previous sentence's
 * embedding; the training embeddings' mean) and with a 95% bootstrap interval over the
 * documents, and round-trip L2 (decode to text with the SVAE, re-encode, compare).
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  baseLcmConfigSchema,
  collateWindows,
  conceptBatches,
  conceptLens,
  conceptWindows,
  hasLens,
  createConceptHead,
  energyScores,
  drawSpreads,
  disposeBatch,
  energyLcmConfigSchema,
  fitConceptSpace,
  loadConceptHead,
  saveConceptHead,
  headGenerateOptions,
  nextEmbeddingL2,
  oneTowerConfigSchema,
  roundTripL2,
  scoresWithBaselines,
  twoTowerConfigSchema,
  type ConceptBatch,
  type ConceptCodec,
  type ConceptModel,
} from '@sentencelab/concept-heads';
import type { DatasetDocument } from '@sentencelab/data';
import { tokenF1 } from '@sentencelab/latent-lm';
import { bootstrapRatio, BRIER_TOKENS, brierFigures, brierSample, spreadPicks, type BrierItem } from '@sentencelab/metrics';
import { ES_BY_HORIZON_KEY, intervalEntries, type EvalKey, type EvalValue } from '@sentencelab/runs';
import { Rng } from '@sentencelab/tensor';
import { decodeOptionsFrom, textCodec, type DecodeOptions, type SentenceVAE } from '@sentencelab/sentence-vae';
import { z } from 'zod';
import { meanLoss } from '../train/fit.js';
import { trainStage } from '../train/train-stage.js';
import type { Trainable } from '../train/loop.js';
import { trainSchema } from '../train/schema.js';
import { epochStream } from '../train/streams.js';
import { datasetDirOf, loadData, pickDocuments, promptSentences, tokenizerArtifact, validationBatches, type LoadedData } from './dataset.js';
import { modelSection } from './model-section.js';
import { embedDocuments, embedPosteriors, headEmbeddings } from './embeddings.js';
import { headPairing, type AheadScores, type HeadPairing } from './head-pairing.js';
import { loadSvae } from './svae.js';
import type { Artifact, GenerateOptions, LensView, Stage, StageContext, StageSection } from './types.js';

const DERIVED = { dEmb: 'the SentenceVAE (its dModel)', seed: 'the pipeline seed' } as const;

const common = {
  train: trainSchema.prefault({}),
  evalDocuments: z.number().int().positive().default(32).describe('test documents whose next-sentence embeddings are scored'),
  roundTripSentences: z.number().int().positive().default(64).describe('predicted embeddings decoded and re-encoded for round-trip L2'),
  resamples: z.number().int().positive().default(1000).describe('bootstrap resamples of the test documents for the 95% intervals (seeded by the pipeline seed)'),
  brierSentences: z.number().int().nonnegative().default(256).describe('BrierLM: how many predicted next sentences (spread evenly over the test documents) are decoded twice through the SentenceVAE decoder; 0 = no BrierLM'),
  aheadSentences: z
    .number()
    .int()
    .nonnegative()
    .default(256)
    .describe("energy score sentences ahead: how many targets (spread evenly over the test documents) the head also predicts after its own draws of the sentences before, twice, as generation goes on; 0 = none"),
  aheadHorizon: z
    .number()
    .int()
    .min(2)
    .default(2)
    .describe('how many sentences ahead those targets are drawn: each one after the head\'s own draws of the h - 1 sentences before it, for every h up to this (energy_score_by_horizon; 2 = two ahead only). The targets need this many sentences before them in their window, so it must stay below model.maxSentences'),
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

export const lcmEnergyStageSchema = z.strictObject({
  model: modelSection(energyLcmConfigSchema, { ...DERIVED, kind: 'the stage kind (energy)' }),
  ...common,
});

/**
 * Which head a stage trains: its config schema, and the kind its config gets when it names none
 * (lcm-mse and lcm-energy cannot name one: `kind` is a derived key of their model section).
 */
const HEADS = {
  'base-lcm': { schema: baseLcmConfigSchema, kind: 'base-lcm' },
  diffusion: { schema: diffusionModelSchema, kind: 'two-tower' },
  energy: { schema: energyLcmConfigSchema, kind: 'energy' },
} as const;
type HeadKind = keyof typeof HEADS;

const inputs = {
  tokenizer: { kinds: ['tokenizer'], description: 'the dataset (documents as token ids)' },
  svae: { kinds: ['svae'], description: 'the frozen SentenceVAE whose embeddings are the concept space' },
} as const;

/** The SentenceVAE + tokenizer as a concept codec (text <-> vectors); vectors decode with `decode` (default greedy). */
export function svaeCodec(svae: SentenceVAE, data: LoadedData, decode: DecodeOptions = {}): ConceptCodec {
  return textCodec(svae, data.dataset.tokenizer, decode);
}

function concat(vs: Float32Array[]): Float32Array {
  const d = vs[0]?.length ?? 0;
  const out = new Float32Array(vs.length * d);
  vs.forEach((v, i) => out.set(v, i * d));
  return out;
}

function svaeArtifact(inputs: Record<string, Artifact | Artifact[]>): Artifact {
  const a = inputs['svae'];
  if (!a || Array.isArray(a)) throw new Error('input "svae" must be one svae stage');
  return a;
}

async function runHead(ctx: StageContext<z.output<typeof lcmMseStageSchema>>, kind: HeadKind): Promise<{ files: Record<string, string>; meta: Record<string, unknown> }> {
  const c = ctx.config;
  const data = await loadData(datasetDirOf(tokenizerArtifact(ctx.inputs)));
  const svaeInput = svaeArtifact(ctx.inputs);
  const svae = loadSvae(svaeInput.dir);
  const codec = svaeCodec(svae, data);
  const [trainDocs, valDocs, testDocs] = await Promise.all([data.split('train'), data.split('validation'), data.split('test')]);
  const raw = { ...c.model, dEmb: svae.config.dModel, seed: ctx.seed };
  // The head's kind: the stage's, or for lcm-diffusion model.kind where the config names one.
  const head = HEADS[kind];
  const probe = head.schema.parse({ kind: head.kind, ...raw });
  if (c.aheadSentences > 0 && c.aheadHorizon >= probe.maxSentences) throw new Error(`stage ${ctx.name}: aheadHorizon ${c.aheadHorizon} needs windows of at least ${c.aheadHorizon + 1} sentences, but model.maxSentences is ${probe.maxSentences} (lower aheadHorizon or set aheadSentences: 0)`);
  // CALM's targets: draws of each target sentence's posterior (the energy head's targetDraws, a
  // diffusion head's posteriorTargets), so the batches carry its std (the plan has checked that
  // the SentenceVAE is variational: posteriorTargetsCheck).
  const targetDraws = probe.kind === 'energy' ? probe.generator.targetDraws : 0;
  const posteriorTargets = (probe.kind === 'two-tower' || probe.kind === 'one-tower') && probe.posteriorTargets;
  const drawsNote = targetDraws > 0 ? `the energy score takes ${targetDraws} draws of each target's posterior` : posteriorTargets ? "the head denoises a fresh draw of each target's posterior" : undefined;
  // A variational SentenceVAE's posterior stds: the training targets' draws, and the evaluation's energy score against posterior draws.
  const variational = svae.config.variational;
  const encode = async (docs: readonly DatasetDocument[]) => (variational ? embedPosteriors(svae, docs) : { means: await embedDocuments(svae, docs), stds: undefined });
  ctx.log(`encoding ${trainDocs.length} training documents with the frozen SentenceVAE${drawsNote ? ` (posterior means and stds: ${drawsNote})` : ''}`);
  const { means: train, stds: trainPosteriorStds } = await encode(trainDocs);
  const { means: val, stds: valPosteriorStds } = await encode(valDocs.filter((d) => d.sentences.length >= 1));
  const [trainStds, valStds] = drawsNote ? [trainPosteriorStds, valPosteriorStds] : [undefined, undefined];
  const space = await fitConceptSpace(codec, train, { normalizer: probe.normalizer, endSentence: probe.endSentence });
  const windowOptions = { maxSentences: probe.maxSentences, endVector: space.endVector };
  const valBatches = validationBatches([...conceptBatches(val, { ...windowOptions, batchSize: c.train.batchSize, stds: valStds })], c.train.evalBatches, valDocs, ctx.name);
  let pairing: HeadPairing | undefined;
  const { evalResults } = await trainStage(ctx, {
    build: (): ConceptModel => createConceptHead(probe, space),
    fit: (model) => {
      const trainable: Trainable<ConceptBatch> & { namedParameters: ConceptModel['namedParameters'] } = {
        parameterMap: () => model.parameterMap(),
        namedParameters: () => model.namedParameters(),
        packLegacyParameters: (values) => model.packLegacyParameters(values),
        train: (on) => model.train(on),
        loss: (b) => model.loss(b),
      };
      ctx.log(`${probe.kind}: ${model.numParams()} parameters over ${svae.config.dModel}-d SentenceVAE embeddings`);
      return {
        model: trainable,
        train: c.train,
        batches: epochStream<ConceptBatch>({
          makeEpoch: (epoch) => conceptBatches(train, { ...windowOptions, batchSize: c.train.batchSize, rng: new Rng(ctx.seed * 1000 + epoch), stds: trainStds }),
          tokens: (b) => b.mask.shape[0] * b.mask.shape[1],
          dispose: disposeBatch,
          what: `stage ${ctx.name}`,
        }),
        rngs: { model: model.rng },
        evaluate: async () => ({ loss: await meanLoss(trainable, valBatches) }),
      };
    },
    results: async (model, result) => {
      const evalDocs = pickDocuments(testDocs, c.evalDocuments, 2);
      if (evalDocs.length === 0) throw new Error(`stage ${ctx.name}: the test split has no document with 2 or more sentences (${testDocs.length} documents; raise data.split.test)`);
      const { means: evalVectors, stds: evalStds } = await encode(evalDocs);
      const evalResults = await evaluateHead(model, codec, evalVectors, train, {
        ...(evalStds && trainPosteriorStds ? { posterior: { targetStds: evalStds, trainingStds: trainPosteriorStds } } : {}),
        onPredictions: (p) => ctx.run!.writeEmbeddings(headEmbeddings(evalDocs, evalVectors, p, result.step)),
        onPairing: (p) => (pairing = p),
        roundTrip: c.roundTripSentences,
        batchSize: c.train.batchSize,
        resamples: c.resamples,
        seed: ctx.seed,
        ahead: c.aheadSentences,
        horizon: c.aheadHorizon,
        brier: {
          sentences: c.brierSentences,
          ids: evalDocs.map((d) => d.sentences),
          eos: data.ids.eos,
          decode: async (vectors, o) => {
            const x = tf.tensor2d(concat(vectors), [vectors.length, svae.config.dModel]);
            try {
              return await svae.decode(x, { strategy: 'sample', temperature: 1, maxTokens: o.maxTokens, seed: o.seed });
            } finally {
              x.dispose();
            }
          },
        },
      });
      // The same figures on validation documents, to choose a sampler on (the test documents stay held out).
      const valEvalDocs = pickDocuments(valDocs, c.evalDocuments, 2);
      if (valEvalDocs.length > 0) Object.assign(evalResults, await validationDraws(model, (await encode(valEvalDocs)).means, { batchSize: c.train.batchSize, resamples: c.resamples, seed: ctx.seed }));
      Object.assign(evalResults, { params: model.numParams(), eval_documents: evalDocs.length, val_loss: result.val['loss'] ?? null });
      const f = (k: string) => {
        const v = evalResults[k];
        return typeof v === 'number' ? v.toFixed(4) : 'NaN';
      };
      ctx.log(`test: L2 ${f('l2')} (copy-previous ${f('l2_copy_prev')}, training mean ${f('l2_train_mean')}), contrastive acc ${f('contrastive_acc')} (copy-previous ${f('contrastive_acc_copy_prev')}, training mean ${f('contrastive_acc_train_mean')}), round-trip L2 ${f('roundtrip_l2')}`);
      return evalResults;
    },
    save: async (model, result) => {
      await saveConceptHead(join(ctx.outDir, 'head.safetensors'), model, { step: result.step });
      return { head: 'head.safetensors' };
    },
    dispose: () => {
      valBatches.forEach(disposeBatch);
      svae.dispose();
    },
  });
  return { files: { head: 'head.safetensors' }, meta: { config: probe, eval: evalResults, pairing, svaeDir: svaeInput.dir, datasetDir: data.dataset.dir } };
}

/**
 * L2 / contrastive accuracy over teacher-forced predictions, beside the copy-previous and
 * training-mean baselines on the same targets, and the energy score of two draws beside that of
 * two training embeddings drawn at random (`training`: the training documents' embeddings), each
 * with a 95% bootstrap interval over the documents (contrastive distractors: all targets of all
 * documents), and the energy score's terms as spread / skill (`drawSpreads`); the energy score
 * two sentences ahead over some targets ({@link rollOutAhead}); round trip over some predictions.
 */
export async function evaluateHead(
  model: Pick<ConceptModel, 'predictBatch' | 'config' | 'normalizer'>,
  codec: ConceptCodec,
  docs: Float32Array[][],
  training: readonly Float32Array[][],
  options: {
    roundTrip: number;
    batchSize: number;
    resamples: number;
    seed: number;
    brier?: BrierOptions;
    /** How many targets (spread evenly over the documents) are also predicted sentences ahead ({@link rollOutAhead}); 0 or absent: none. */
    ahead?: number;
    /** How many sentences ahead those targets are drawn (every horizon from 1 up to this: {@link ES_BY_HORIZON_KEY}); default 2. */
    horizon?: number;
    /** Called with the teacher-forced predictions, their targets and documents (in document order). */
    onPredictions?: (p: { predictions: Float32Array[]; targets: Float32Array[]; docOf: number[] }) => void;
    /** Called with what the eval needs to pair this head with another on the same targets. */
    onPairing?: (p: HeadPairing) => void;
    /**
     * A variational SentenceVAE's posterior stds of `docs` and `training` (shaped like them):
     * the energy scores are then also taken against one draw of each target's posterior.
     */
    posterior?: { targetStds: readonly Float32Array[][]; trainingStds: readonly Float32Array[][] };
  },
): Promise<Record<string, EvalValue>> {
  const { predictions, second, targets, previous, docOf } = await drawTwice(model, docs, options);
  if (predictions.length < 2) throw new Error(`evaluation needs at least 2 target sentences in the test documents, got ${predictions.length}`);
  options.onPredictions?.({ predictions, targets, docOf });
  const scores = scoresWithBaselines(predictions, targets, previous, meanEmbedding(training));
  const out: Record<string, number | null> = {};
  // A ratio of sums over all targets, or over a subset of them (`of[j]`: the document of value j).
  const ratio = (key: EvalKey, nums: readonly number[], dens: readonly number[], of: readonly number[] = docOf) => Object.assign(out, ratioEntries(key, nums, dens, of, docs.length, options));
  // A mean over targets (or a subset of them).
  const figure = (key: EvalKey, values: readonly number[], of: readonly number[] = docOf) => ratio(key, values, values.map(() => 1), of);
  // The energy score's terms as spread / skill (drawSpreads: 1 for draws of the targets' own distribution).
  const spreadRatio = (key: EvalKey, first: Float32Array[], again: Float32Array[], against: Float32Array[], of: readonly number[] = docOf) => {
    const { spread, skill } = drawSpreads(first, again, against);
    ratio(key, spread, skill, of);
  };
  figure('l2', scores.head.l2);
  const headScores = energyScores(predictions, second, targets);
  figure('energy_score', headScores);
  spreadRatio('spread_ratio', predictions, second, targets);
  // Sampling the training distribution: two training embeddings drawn at random (seeded) for each target.
  const pool = training.flat();
  const rng = new Rng(options.seed + 2);
  const picks = targets.map(() => [rng.int(pool.length), rng.int(pool.length)] as const);
  const trainDist = energyScores(picks.map((d) => pool[d[0]]!), picks.map((d) => pool[d[1]]!), targets);
  figure('energy_score_train_dist', trainDist);
  spreadRatio('spread_ratio_train_dist', picks.map((d) => pool[d[0]]!), picks.map((d) => pool[d[1]]!), targets);
  // Paired: the same targets, the same documents drawn in each resample.
  figure('energy_score_diff_train_dist', headScores.map((x, i) => x - trainDist[i]!));
  let posteriorScores: number[] | undefined;
  let drawn: Float32Array[] | undefined;
  let trainDraws: (readonly [Float32Array, Float32Array])[] | undefined;
  if (options.posterior) {
    // Against one draw of each target's posterior (the same draws for every head: seeded, in
    // target order), and the training distribution sampled as posterior draws too (the same picks).
    const { targetStds, trainingStds } = options.posterior;
    const stds = docs.flatMap((_, d) => targetStds[d]!.slice(1));
    if (stds.length !== targets.length) throw new Error(`evaluation: ${stds.length} posterior stds for ${targets.length} targets`);
    const noise = new Rng(options.seed + 3);
    const drawOf = (mean: Float32Array, std: Float32Array) => Float32Array.from(mean, (m, j) => m + std[j]! * noise.normal());
    drawn = targets.map((t, i) => drawOf(t, stds[i]!));
    const poolStds = trainingStds.flat();
    posteriorScores = energyScores(predictions, second, drawn);
    figure('energy_score_posterior', posteriorScores);
    spreadRatio('spread_ratio_posterior', predictions, second, drawn);
    trainDraws = picks.map((d) => [drawOf(pool[d[0]]!, poolStds[d[0]]!), drawOf(pool[d[1]]!, poolStds[d[1]]!)] as const);
    const trainDistPosterior = energyScores(trainDraws.map((d) => d[0]), trainDraws.map((d) => d[1]), drawn);
    figure('energy_score_posterior_train_dist', trainDistPosterior);
    spreadRatio('spread_ratio_posterior_train_dist', trainDraws.map((d) => d[0]), trainDraws.map((d) => d[1]), drawn);
    figure('energy_score_posterior_diff_train_dist', posteriorScores.map((x, i) => x - trainDistPosterior[i]!));
  }
  figure('contrastive_acc', scores.head.contrastive);
  figure('l2_copy_prev', scores.copyPrev.l2);
  figure('contrastive_acc_copy_prev', scores.copyPrev.contrastive);
  figure('l2_train_mean', scores.trainMean.l2);
  figure('contrastive_acc_train_mean', scores.trainMean.contrastive);
  let brierItems: BrierItem[][] | undefined;
  if (options.brier && options.brier.sentences > 0) {
    brierItems = await headBrier(docs, docOf, predictions, second, targets, options, options.brier);
    Object.assign(out, brierFigures(brierItems, options));
  }
  // Sentences ahead: each picked target's energy score two ahead, against its mean and (a VAE's)
  // its posterior draw; then the same targets at every horizon up to options.horizon.
  let ahead: AheadScores | undefined;
  let byHorizon: Record<string, Record<string, number>> | undefined;
  if (options.ahead && options.ahead > 0) {
    const rolled = await rollOutAhead(model, docs, predictions, second, options.ahead, { batchSize: options.batchSize, seed: options.seed, horizon: options.horizon });
    const at = (list: readonly Float32Array[]) => rolled.picks.map((k) => list[k]!);
    const aheadOf = rolled.picks.map((k) => docOf[k]!);
    // The picked targets' scores at every horizon from 1 (teacher-forced: headScores') on.
    const horizonScores = [rolled.picks.map((k) => headScores[k]!), ...rolled.horizons.map((d) => energyScores(d.first, d.second, at(targets)))];
    const twoAhead = rolled.horizons[0]!;
    const aheadScores = horizonScores[1]!;
    figure('energy_score_ahead', aheadScores, aheadOf);
    const aheadTrainDist = rolled.picks.map((k) => trainDist[k]!);
    figure('energy_score_ahead_train_dist', aheadTrainDist, aheadOf);
    figure('energy_score_ahead_diff_train_dist', aheadScores.map((x, j) => x - aheadTrainDist[j]!), aheadOf);
    // The same targets one sentence ahead (teacher-forced): what reading its own draw costs.
    figure('energy_score_ahead_diff_next', aheadScores.map((x, j) => x - horizonScores[0]![j]!), aheadOf);
    spreadRatio('spread_ratio_ahead', twoAhead.first, twoAhead.second, at(targets), aheadOf);
    ahead = { picks: rolled.picks, scores: { energyScoreAhead: aheadScores } };
    if (drawn && trainDraws) {
      const against = at(drawn);
      const aheadPosterior = energyScores(twoAhead.first, twoAhead.second, against);
      figure('energy_score_ahead_posterior', aheadPosterior, aheadOf);
      const trainPosterior = energyScores(rolled.picks.map((k) => trainDraws![k]![0]), rolled.picks.map((k) => trainDraws![k]![1]), against);
      figure('energy_score_ahead_posterior_diff_train_dist', aheadPosterior.map((x, j) => x - trainPosterior[j]!), aheadOf);
      ahead.scores.energyScoreAheadPosterior = aheadPosterior;
    }
    out['ahead_targets'] = rolled.picks.length;
    // The same targets at every horizon, from 1 (teacher-forced) on.
    const draws = [{ first: at(predictions), second: at(second) }, ...rolled.horizons];
    byHorizon = horizonFamily(draws, horizonScores, at(targets), aheadTrainDist, aheadOf, docs.length, options);
  }
  const pairing = headPairing(targets, docOf, { energyScore: headScores, l2: scores.head.l2, contrastiveAcc: scores.head.contrastive, ...(posteriorScores ? { energyScorePosterior: posteriorScores } : {}) }, docs.length, ahead);
  options.onPairing?.(brierItems ? { ...pairing, brier: brierItems } : pairing);
  const rt = await roundTripL2(predictions.slice(0, options.roundTrip), codec, model.normalizer);
  return { ...out, ...(byHorizon ? { [ES_BY_HORIZON_KEY]: byHorizon } : {}), l2_normalized: nextEmbeddingL2(predictions, targets, model.normalizer).normalized, roundtrip_l2: rt.raw, eval_targets: predictions.length };
}

/**
 * The energy score by horizon ({@link ES_BY_HORIZON_KEY}): for each horizon (`draws[h - 1]`, the
 * two draws of every target at horizon h; `scores[h - 1]`, their energy score against each
 * target), the energy score, the training distribution's on the
 * same targets and their paired difference, from horizon 2 on its paired difference to horizon
 * 1's (`diff_next`), and spread / skill, each with its 95% bootstrap interval over the
 * `documents` (`of[j]`: the document of target j), and how many targets.
 */
function horizonFamily(
  draws: readonly { first: Float32Array[]; second: Float32Array[] }[],
  scores: readonly (readonly number[])[],
  targets: Float32Array[],
  trainDist: readonly number[],
  of: readonly number[],
  documents: number,
  o: { resamples: number; seed: number },
): Record<string, Record<string, number>> {
  const ones = targets.map(() => 1);
  const entries = (key: string, nums: readonly number[], dens: readonly number[]) => ratioEntries(key as EvalKey, nums, dens, of, documents, o);
  return Object.fromEntries(
    draws.map((d, i) => {
      const { spread, skill } = drawSpreads(d.first, d.second, targets);
      const bucket = {
        ...entries('energy_score', scores[i]!, ones),
        ...entries('train_dist', trainDist, ones),
        ...entries('diff_train_dist', scores[i]!.map((x, j) => x - trainDist[j]!), ones),
        // What reading its own h - 1 draws costs: the teacher-forced score subtracted target by target.
        ...(i > 0 ? entries('diff_next', scores[i]!.map((x, j) => x - scores[0]![j]!), ones) : {}),
        ...entries('spread_ratio', spread, skill),
        targets: targets.length,
      };
      return [String(i + 1), bucket];
    }),
  );
}

/** Each target's draw and a second draw with another seed (the same for a deterministic head), its previous sentence and document, in document order. */
async function drawTwice(
  model: Pick<ConceptModel, 'predictBatch' | 'config'>,
  docs: readonly Float32Array[][],
  o: { batchSize: number; seed: number },
): Promise<{ predictions: Float32Array[]; second: Float32Array[]; targets: Float32Array[]; previous: Float32Array[]; docOf: number[] }> {
  const out = { predictions: [] as Float32Array[], second: [] as Float32Array[], targets: [] as Float32Array[], previous: [] as Float32Array[], docOf: [] as number[] };
  for (let d = 0; d < docs.length; d++) {
    for (const b of conceptBatches([docs[d]!], { maxSentences: model.config.maxSentences, endVector: null, batchSize: o.batchSize })) {
      const p = await model.predictBatch(b);
      out.second.push(...(await model.predictBatch(b, { seed: o.seed + 1 })).predictions);
      out.predictions.push(...p.predictions);
      out.targets.push(...p.targets);
      out.previous.push(...p.previous);
      for (const _ of p.predictions) out.docOf.push(d);
      disposeBatch(b);
    }
  }
  return out;
}

/**
 * A ratio of sums over targets (`nums[j] / dens[j]` summed; a mean when every den is 1) as eval
 * entries, with its 95% bootstrap interval over the `documents` (`of[j]`: the document of target j).
 */
function ratioEntries(key: EvalKey, nums: readonly number[], dens: readonly number[], of: readonly number[], documents: number, o: { resamples: number; seed: number }): Record<string, number> {
  const sums = Array.from({ length: documents }, () => ({ num: 0, den: 0 }));
  nums.forEach((x, i) => {
    sums[of[i]!]!.num += x;
    sums[of[i]!]!.den += dens[i]!;
  });
  const ci = bootstrapRatio(sums, { resamples: o.resamples, seed: o.seed });
  return { [key]: nums.reduce((a, b) => a + b, 0) / dens.reduce((a, b) => a + b, 0), ...intervalEntries(key, ci) };
}

/**
 * The head's energy score and spread / skill on validation documents (`val_energy_score`,
 * `val_spread_ratio`), drawn as on the test documents: what a choice of sampler (initial noise,
 * guidance) can be made on, so that the test figures stay a held-out measurement of it.
 */
async function validationDraws(model: Pick<ConceptModel, 'predictBatch' | 'config'>, docs: readonly Float32Array[][], o: { batchSize: number; resamples: number; seed: number }): Promise<Record<string, number>> {
  const { predictions, second, targets, docOf } = await drawTwice(model, docs, o);
  const { spread, skill } = drawSpreads(predictions, second, targets);
  const scores = energyScores(predictions, second, targets);
  return { ...ratioEntries('val_energy_score', scores, scores.map(() => 1), docOf, docs.length, o), ...ratioEntries('val_spread_ratio', spread, skill, docOf, docs.length, o), val_eval_targets: predictions.length };
}

/**
 * Sentences ahead, as generation goes on: for up to `limit` targets (spread evenly over the
 * documents; each one with at least `horizon` - 1 targets of its own window before it, so that
 * the head predicted the first of them from the true sentences before it), the head draws the
 * target again after its own draws of the h - 1 sentences before it, for every horizon
 * h = 2..`horizon`: the first of those draws is its teacher-forced one (`predictions`; the
 * second rollout starts from `second`, its draw at another seed), and each next one is drawn from
 * the context so far, [true 0..t-h, own draws of t-h+1..t-1], cut as the teacher-forced pass cut
 * its windows, whose last prediction is the rollout's. Every horizon scores the same targets, so
 * that only how many of the sentences before are the head's own differs between them.
 * Returns the picked targets (indices into the teacher-forced targets, in order) and, per
 * horizon from 2 (`horizons[h - 2]`), the two rollouts' draws of each.
 */
export async function rollOutAhead(
  model: Pick<ConceptModel, 'predictBatch' | 'config'>,
  docs: Float32Array[][],
  predictions: readonly Float32Array[],
  second: readonly Float32Array[],
  limit: number,
  o: { batchSize: number; seed: number; horizon?: number },
): Promise<{ picks: number[]; horizons: { first: Float32Array[]; second: Float32Array[] }[] }> {
  const horizon = o.horizon ?? 2;
  if (!Number.isInteger(horizon) || horizon < 2) throw new Error(`rollOutAhead: horizon must be an integer of at least 2, got ${horizon}`);
  // Where each teacher-forced target sits: its window (the same windows as its batches) and position.
  const slots: { d: number; window: Float32Array[]; p: number }[] = [];
  docs.forEach((doc, d) => {
    for (const window of conceptWindows([doc], { maxSentences: model.config.maxSentences, endVector: null })) for (let p = 1; p < window.length; p++) slots.push({ d, window, p });
  });
  if (slots.length !== predictions.length) throw new Error(`rollOutAhead: ${predictions.length} predictions for ${slots.length} targets`);
  const eligible = docs.map(() => [] as number[]);
  slots.forEach((s, k) => {
    if (s.p >= horizon) eligible[s.d]!.push(k);
  });
  const picks = spreadPicks(eligible.map((ks) => ks.length), limit).flatMap((chosen, d) => chosen.map((c) => eligible[d]![c]!));
  const dim = predictions[0]?.length ?? 0;
  // One step of every picked target's rollout: the next draw after [true context, own draws so far].
  const step = async (h: number, chains: readonly Float32Array[][], seed: number): Promise<Float32Array[]> => {
    const out: Float32Array[] = [];
    for (let i = 0; i < picks.length; i += o.batchSize) {
      // [true sentences before t - h + 1, the head's own draws from t - h + 1 on, a placeholder] per picked target (t: its position).
      const windows = picks.slice(i, i + o.batchSize).map((k, j) => {
        const { window, p } = slots[k]!;
        const chain = chains[i + j]!;
        // The true sentence where the next draw goes (only what comes before it is read).
        return [...window.slice(0, p - h + 1), ...chain, window[p - h + 1 + chain.length]!];
      });
      const batch = collateWindows(windows, dim);
      try {
        const { predictions: drawn } = await model.predictBatch(batch, { seed });
        // Each window's predictions in position order: its last (after its last own draw) is this step's.
        let end = 0;
        for (const w of windows) {
          end += w.length - 1;
          out.push(drawn[end - 1]!);
        }
      } finally {
        disposeBatch(batch);
      }
    }
    return out;
  };
  // Horizon h's chain starts at the teacher-forced draw of t - h + 1 and takes h - 1 steps; each
  // step its own pair of seeds (horizon 2's: seed + 4 and seed + 5).
  const horizons: { first: Float32Array[]; second: Float32Array[] }[] = [];
  let seed = o.seed + 4;
  for (let h = 2; h <= horizon; h++) {
    const rollout = async (start: readonly Float32Array[], at: number) => {
      const chains = picks.map((k) => [start[k - h + 1]!]);
      let drawn: Float32Array[] = [];
      for (let s = 1; s < h; s++) {
        drawn = await step(h, chains, at + 2 * (s - 1));
        drawn.forEach((v, j) => chains[j]!.push(v));
      }
      // The last step's windows end at the target: its draws are the horizon's.
      return drawn;
    };
    horizons.push({ first: await rollout(predictions, seed), second: await rollout(second, seed + 1) });
    seed += 2 * (h - 1);
  }
  return { picks, horizons };
}

/** What BrierLM of a concept head needs: the test documents' ids and a sampling decoder. */
export interface BrierOptions {
  sentences: number;
  /** Token ids of each test document's sentences (the same documents as the embeddings). */
  ids: readonly (readonly ArrayLike<number>[])[];
  eos: number;
  /** Samples a sentence from each vector through the SentenceVAE decoder (its first `maxTokens` tokens). */
  decode(vectors: Float32Array[], o: { maxTokens: number; seed: number }): Promise<number[][]>;
}

/**
 * BrierLM's items of a concept head (grouped by document): `sentences` of its teacher-forced
 * predictions, spread evenly over the documents (the same sentences for every head on the same
 * targets), and their second draws (another seed; the same for a deterministic MSE head), each
 * decoded with sampling through the SentenceVAE decoder; targets are the true next sentences' ids.
 */
async function headBrier(
  docs: Float32Array[][],
  docOf: readonly number[],
  predictions: Float32Array[],
  second: Float32Array[],
  targets: Float32Array[],
  o: { seed: number },
  b: BrierOptions,
): Promise<BrierItem[][]> {
  // Which predictions: spread evenly over the documents (spreadPicks); k indexes predictions.
  const perDoc = docs.map(() => [] as number[]);
  docOf.forEach((d, k) => perDoc[d]!.push(k));
  const chosen = spreadPicks(perDoc.map((ks) => ks.length), b.sentences).flatMap((picks, d) => picks.map((p) => perDoc[d]![p]!));
  const [x1, x2] = [
    await b.decode(chosen.map((k) => predictions[k]!), { maxTokens: BRIER_TOKENS, seed: 2 * o.seed }),
    await b.decode(chosen.map((k) => second[k]!), { maxTokens: BRIER_TOKENS, seed: 2 * o.seed + 1 }),
  ];
  const items: BrierItem[][] = docs.map(() => []);
  chosen.forEach((k, c) => {
    const d = docOf[k]!;
    // The target's sentence: the document's embedding equal to it (equal embeddings come from equal ids).
    const j = docs[d]!.findIndex((v) => v.every((x, i) => x === targets[k]![i]));
    if (j < 0) throw new Error(`BrierLM: target ${k} is none of document ${d}'s sentence embeddings`);
    items[d]!.push({ target: [...Array.from(b.ids[d]![j]!), b.eos], samples: [brierSample(x1[c]!, BRIER_TOKENS, b.eos), brierSample(x2[c]!, BRIER_TOKENS, b.eos)] });
  });
  return items;
}

/** Mean of every training sentence embedding (the training-mean baseline's constant prediction). */
export function meanEmbedding(docs: readonly Float32Array[][]): Float32Array {
  const all = docs.flat();
  if (all.length === 0) throw new Error('meanEmbedding: no training embeddings');
  const mean = new Float64Array(all[0]!.length);
  for (const v of all) v.forEach((x, i) => (mean[i]! += x));
  return Float32Array.from(mean, (x) => x / all.length);
}

/** Streams sentences continuing `prompt` (segmented by the data section's rules) from a head artifact. */
async function* generateFromHead(artifact: Artifact, prompt: string, o: GenerateOptions): AsyncGenerator<string> {
  const svae = loadSvae(String(artifact.meta['svaeDir']));
  const data = await loadData(String(artifact.meta['datasetDir']));
  const { model } = loadConceptHead(join(artifact.dir, 'head.safetensors'));
  try {
    const sentences = await promptSentences(prompt, data);
    for await (const s of model.generate(svaeCodec(svae, data, decodeOptionsFrom(o)), sentences, headGenerateOptions(o))) yield ` ${s.text}`;
  } finally {
    model.dispose();
    svae.dispose();
  }
}

/**
 * SentenceLens of a Base-LCM or energy head (`pnpm exp lens`; the energy head's cells from one
 * noise draw of its config seed): each layer's prediction decoded by the
 * SVAE, scored with its cosine to the true next sentence's embedding and the token F1 of its
 * decoding (the SLLM lens's scores).
 */
async function lensOfHead(artifact: Artifact, text: string, o: { maxTokens: number }): Promise<LensView> {
  const svae = loadSvae(String(artifact.meta['svaeDir']));
  const data = await loadData(String(artifact.meta['datasetDir']));
  const { model } = loadConceptHead(join(artifact.dir, 'head.safetensors'));
  try {
    if (!hasLens(model)) throw new Error(`${artifact.dir}: only Base-LCM (lcm-mse) and energy (lcm-energy) heads have a lens; a diffusion head's layers denoise, they hold no prediction`);
    const tok = data.dataset.tokenizer;
    const all = await promptSentences(text, data);
    const sentences = all.slice(0, model.maxContext);
    const grid = await conceptLens(model, svaeCodec(svae, data, { maxTokens: o.maxTokens }), sentences);
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

const packages = ['@sentencelab/concept-heads', '@sentencelab/sentence-vae', '@sentencelab/tensor', '@sentencelab/data', '@sentencelab/metrics'] as const;

/**
 * What only a head's test evaluation reads (its training never samples): a sweep over them
 * evaluates one trained head again instead of training it per point. Guidance's
 * conditionDropout trains the unconditional prediction, so it is not among them.
 */
const evalOnly = ['evalDocuments', 'roundTripSentences', 'resamples', 'brierSentences', 'aheadSentences', 'aheadHorizon', 'model.sampling', 'model.guidance.scale', 'model.guidance.rescale'] as const;

export const lcmMseStage: Stage<typeof lcmMseStageSchema> = {
  kind: 'lcm-mse',
  description: 'Base-LCM: regress the next sentence embedding (MSE)',
  schema: lcmMseStageSchema,
  inputs,
  packages,
  trains: true,
  evalOnly,
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
  evalOnly,
  checkInputs: posteriorTargetsCheck,
  run: (ctx) => runHead(ctx as StageContext<z.output<typeof lcmMseStageSchema>>, 'diffusion'),
  generate: generateFromHead,
};

/**
 * A head trained against posterior draws (an energy head's `model.generator.targetDraws` > 0, a
 * diffusion head's `model.posteriorTargets: true`) needs a variational SentenceVAE input: refused
 * when the pipeline is planned, before anything trains.
 */
export function posteriorTargetsCheck(options: { model: Record<string, unknown> }, inputs: Record<string, StageSection | StageSection[]>): { keyPath: string; reason: string } | undefined {
  const generator = options.model['generator'];
  const draws = generator !== null && typeof generator === 'object' ? (generator as Record<string, unknown>)['targetDraws'] : undefined;
  const asked =
    typeof draws === 'number' && draws > 0
      ? { keyPath: 'model.generator.targetDraws', what: `${draws} draws of each target's posterior need`, off: 'targetDraws: 0' }
      : options.model['posteriorTargets'] === true
        ? { keyPath: 'model.posteriorTargets', what: "denoising draws of each target's posterior needs", off: 'posteriorTargets: false' }
        : undefined;
  if (!asked) return undefined;
  const svae = inputs['svae'];
  const model = svae && !Array.isArray(svae) ? (svae as { model?: Record<string, unknown> }).model : undefined;
  if (model?.['variational'] === true) return undefined;
  return { keyPath: asked.keyPath, reason: `${asked.what} a variational SentenceVAE, but input svae is not one (its model.variational is not true); set it there, or ${asked.off}` };
}

export const lcmEnergyStage: Stage<typeof lcmEnergyStageSchema> = {
  kind: 'lcm-energy',
  description: "CALM's energy head: sample the next sentence embedding in one pass (energy score)",
  schema: lcmEnergyStageSchema,
  inputs,
  packages,
  trains: true,
  evalOnly,
  checkInputs: posteriorTargetsCheck,
  run: (ctx) => runHead(ctx as StageContext<z.output<typeof lcmMseStageSchema>>, 'energy'),
  generate: generateFromHead,
  lens: lensOfHead,
};
