/**
 * Tiny pipelines for tests and harnesses (exp's command and stage tests, the report's browser
 * tests, `pnpm bench sweep`): a tokenizer with a 300-token vocabulary and small models on a
 * committed fixture, on the cpu backend, seconds to train. One home for the YAML they share;
 * each caller changes only what its test is about.
 *
 * Exported as `@sentencelab/exp/testing` (source only: it runs under vitest or tsx).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { paragraphs } from '@sentencelab/data';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');

/** The committed 5-document JSONL fixture, as a `data.source` flow map. */
export const TINY_JSONL_SOURCE = `{type: jsonl, paths: [${join(repoRoot, 'datasets/tiny.jsonl')}], textField: text, idField: id}`;

/**
 * The committed paragraph samples (`datasets/samples/*.txt`, one document per paragraph) written
 * to `<dir>/samples.jsonl` with ids `<file>#<n>`; returns it as a `data.source` flow map. Read
 * through a `text` source, the files' documents would be named by their absolute path (they lie
 * outside the working directory), so the split, which hashes the ids, changed with where the
 * repository was cloned.
 */
export function writeSamplesJsonl(dir: string): string {
  const samples = join(repoRoot, 'datasets', 'samples');
  const docs = readdirSync(samples)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .flatMap((f) => paragraphs(readFileSync(join(samples, f), 'utf8')).map((text, i) => ({ id: `${f}#${i + 1}`, text })));
  const file = join(dir, 'samples.jsonl');
  writeFileSync(file, docs.map((d) => JSON.stringify(d)).join('\n'));
  return `{type: jsonl, paths: [${file}], textField: text, idField: id}`;
}

/**
 * Ten documents of three short sentences: with sentence segmentation, enough for all three
 * splits of a sentence-level pipeline (the lens test, the report's sweep-view tests).
 */
export const THREE_SENTENCE_DOCS = [
  'The meeting moved to Thursday. Please bring the budget sheet. Remember to water the plants.',
  'The cat sat on the mat. It purred in the sun. Then it fell asleep.',
  'Rain fell over the city. People opened umbrellas. The streets shone at night.',
  'A ship left at dawn. Sailors raised the sails. The wind carried them north.',
  'We baked bread today. The kitchen smelled warm. Everyone wanted a slice.',
  'The train was late again. We waited on the platform. It came at noon.',
  'She planted tomatoes in May. They grew tall by July. The harvest was good.',
  'The printer works again. Call me back soon. The line was busy.',
  'Snow covered the hills. Children built a snowman. It melted by Sunday.',
  'The library opens at nine. Bring your card. Books are due in two weeks.',
] as const;

/** Writes {@link THREE_SENTENCE_DOCS} to `<dir>/docs.jsonl` (ids `d0`..`d9`); returns it as a `data.source` flow map. */
export function writeThreeSentenceDocs(dir: string): string {
  const file = join(dir, 'docs.jsonl');
  writeFileSync(file, THREE_SENTENCE_DOCS.map((text, i) => JSON.stringify({ id: `d${i}`, text })).join('\n'));
  return `{type: jsonl, paths: [${file}], textField: text, idField: id}`;
}

export interface TinyPipelineOptions {
  /** Folder of the run folders. */
  runsDir: string;
  /** `data.output.cacheDir`: where prepared datasets go (share one across a file's tests). */
  cacheDir: string;
  /** Experiment name (default `tiny`). */
  name?: string;
  /** Compute backend (default `cpu`). */
  backend?: string;
  /** `data.source` as a YAML flow map (default the tiny JSONL fixture). */
  source?: string;
  /** `data.segment` as a YAML flow map (default clauses of at most 24 tokens). */
  segment?: string;
  /** `data.split` as a YAML flow map (default 20 % validation, 20 % test); null leaves it out. */
  split?: string | null;
  /** The `stages:` entries, each line indented two spaces (default: `tok` + {@link tinySvaeStage}). */
  stages?: string;
}

/** The YAML of a tiny pipeline. */
export function tinyPipelineYaml(o: TinyPipelineOptions): string {
  const split = o.split === undefined ? '{validation: 0.2, test: 0.2}' : o.split;
  return `name: ${o.name ?? 'tiny'}
backend: ${o.backend ?? 'cpu'}
runsDir: ${o.runsDir}
data:
  source: ${o.source ?? TINY_JSONL_SOURCE}
  tokenizer: {vocabSize: 300}
  segment: ${o.segment ?? '{mode: clause, maxTokens: 24}'}
${split === null ? '' : `  split: ${split}\n`}  output: {cacheDir: ${o.cacheDir}}
stages:
${o.stages ?? `  tok: {kind: tokenizer}\n${tinySvaeStage()}`}`;
}

export interface TinySvaeOptions {
  /** Stage name (default `svae`). */
  name?: string;
  steps?: number;
  /** Default: every 2 steps. */
  evalEvery?: number;
  /** Default: every 2 steps. */
  checkpointEvery?: number;
  dropout?: number;
  /** Extra keys appended inside `train: {...}`, e.g. `, lr: 0.01`. */
  train?: string;
  /** Extra keys appended inside `model: {...}`, e.g. `, latentNoise: 0.5`. */
  model?: string;
  /** Extra keys appended inside `model.encoder: {...}`, e.g. `, tokenDropout: 0.2`. */
  encoder?: string;
}

/** A d-16 SentenceVAE stage on `tok`, as `stages:` lines. */
export function tinySvaeStage(o: TinySvaeOptions = {}): string {
  const dropout = o.dropout ?? 0.1;
  return `  ${o.name ?? 'svae'}:
    kind: svae
    inputs: {tokenizer: tok}
    model: {dModel: 16${o.model ?? ''}, encoder: {layers: 1, heads: 2, dropout: ${dropout}${o.encoder ?? ''}}, decoder: {layers: 1, heads: 2, dropout: ${dropout}}}
    train: {steps: ${o.steps ?? 4}, batchSize: 2, warmupSteps: 1, evalEvery: ${o.evalEvery ?? 2}, checkpointEvery: ${o.checkpointEvery ?? 2}, evalBatches: 1${o.train ?? ''}}
    evalSentences: 4
`;
}

/**
 * A d-16 concept head stage over `tok` and `svae`, as `stages:` lines: `kind` lcm-mse,
 * lcm-diffusion or lcm-energy, `model` its extra model keys (a diffusion head's `kind`,
 * towers, sampler), `steps` its training steps (default 2), `train` extra keys inside `train: {...}`.
 */
export function tinyHeadStage(name: string, kind: string, o: { model?: string; steps?: number; train?: string } = {}): string {
  return `  ${name}:
    kind: ${kind}
    inputs: {tokenizer: tok, svae: svae}
    model: {dModel: 16, heads: 2, maxSentences: 3, dropout: 0${o.model ?? ''}}
    train: {steps: ${o.steps ?? 2}, batchSize: 2, warmupSteps: 1, evalBatches: 1${o.train ?? ''}}
    evalDocuments: 2
    roundTripSentences: 2
    brierSentences: 0
`;
}

/** A tiny two-tower diffusion head's model keys for {@link tinyHeadStage}: 50 diffusion steps, 4 DDIM steps to sample. */
export const TINY_TWO_TOWER = ', kind: two-tower, contextLayers: 1, denoiserLayers: 1, timestepDim: 16, schedule: {steps: 50}, sampling: {steps: 4}';

/** A tiny energy head's model keys for {@link tinyHeadStage}: 2 decoder layers, a 1-block generator drawing 2 samples a target. */
export const TINY_ENERGY = ', layers: 2, generator: {blocks: 1, samples: 2}';

/**
 * Writes `<dir>/tiny.yaml` for concept heads: the three-sentence documents segmented by
 * sentence, a tokenizer, a d-16 SentenceVAE of 2 steps and `heads` ({@link tinyHeadStage}
 * lines); runs in `<dir>/runs`. Returns its path.
 */
export function tinyHeadsPipeline(dir: string, heads: string): string {
  return writeTinyPipelineFile(dir, {
    runsDir: join(dir, 'runs'),
    cacheDir: join(dir, 'data'),
    source: writeThreeSentenceDocs(dir),
    segment: '{mode: sentence, maxTokens: 48}',
    stages: `  tok: {kind: tokenizer}\n${tinySvaeStage({ steps: 2, dropout: 0 })}${heads}`,
  });
}

/** Writes `<dir>/<file>` with {@link tinyPipelineYaml} and returns its path. */
export function writeTinyPipelineFile(dir: string, o: TinyPipelineOptions, file = 'tiny.yaml'): string {
  const path = join(dir, file);
  writeFileSync(path, tinyPipelineYaml(o));
  return path;
}

/** Writes `<dir>/tiny.yaml` (tokenizer + SentenceVAE, `svae` adding model or encoder keys; runs in `<dir>/runs`, prepared data in `datasets`) and returns its path. */
export function tinyPipeline(dir: string, datasets: string, steps = 4, train = '', svae: Pick<TinySvaeOptions, 'model' | 'encoder'> = {}): string {
  return writeTinyPipelineFile(dir, { runsDir: join(dir, 'runs'), cacheDir: datasets, stages: `  tok: {kind: tokenizer}\n${tinySvaeStage({ steps, train, ...svae })}` });
}
