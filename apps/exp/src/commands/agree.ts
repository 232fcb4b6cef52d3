/**
 * `pnpm exp agree <config.yaml> [overrides] --backends native,webgpu --steps 20`: do two backends
 * train a config's models alike? Every training stage of the config (its tokenizer and data as
 * configured; the eval and bench stages left out) trains its first `--steps` optimizer steps on
 * each backend, from the same seed, data and schedule, and the per-step training losses are
 * compared: the largest |difference| per stage, relative to max(1, |reference loss|), against
 * `--tolerance` (1e-3). The first backend is the reference, or `--reference FILE`, losses saved
 * earlier with `--save FILE` (for a machine where the reference backend cannot run, e.g. a GPU
 * server without the native addon: the GPU check carries losses computed where it was packed).
 * Exit status 1 when a stage disagrees.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { writeJsonAtomic } from '@sentencelab/fs-atomic';
import { readMetrics } from '@sentencelab/runs';
import { loadPipeline } from '../config/pipeline.js';
import { expandSweeps } from '../config/sweep.js';
import type { AnyStage, PipelineConfig } from '../stages/types.js';
import { renderTable } from '../table.js';
import { positiveInt, positiveNumber } from './options.js';

export interface AgreeOptions {
  backends: string[];
  steps: number;
  tolerance: number;
  /** Write the losses of every backend run here. */
  save?: string;
  /** Compare with the first backend's losses in this file instead of running it. */
  reference?: string;
}

/** What `--save` writes and `--reference` reads. */
export interface SavedLosses {
  config: string;
  overrides: string[];
  steps: number;
  backend: string;
  /**
   * sha256 of the prepared data's statistics (documents, sentences and tokens per split, the
   * length histogram): another tokenizer or segmentation changes it, and losses compared across
   * different data would say nothing about the backends.
   */
  data: string;
  /** Training loss per step 1..steps, by stage name. */
  losses: Record<string, number[]>;
}

/** Stage kinds that consume trained models and train nothing: left out of the comparison. */
const CONSUMERS = new Set(['eval', 'bench']);

/**
 * The overrides that cut every training stage to `steps` steps (validation and a checkpoint only
 * at the end, a loss logged every step, warmup at most half the steps) for the config as loaded.
 */
export function agreementOverrides(config: PipelineConfig, registry: ReadonlyMap<string, AnyStage>, steps: number): string[] {
  const out: string[] = [];
  for (const [name, section] of Object.entries(config.stages)) {
    if (!registry.get(section.kind)?.trains) continue;
    const train = section['train'] as { warmupSteps?: number } | undefined;
    const warmup = Math.min(train?.warmupSteps ?? 0, Math.floor(steps / 2));
    out.push(`stages.${name}.train.steps=${steps}`, `stages.${name}.train.evalEvery=${steps}`, `stages.${name}.train.checkpointEvery=${steps}`, `stages.${name}.train.logEvery=1`, `stages.${name}.train.warmupSteps=${warmup}`);
  }
  return out;
}

/**
 * The prepared data's fingerprint: sha256 of every tokenizer stage's counts (documents,
 * sentences, tokens and characters per split, the sentence-length histogram, the vocabulary),
 * leaving out where files lie.
 */
export function dataFingerprint(stats: unknown[]): string {
  const counts = stats.map((s) => {
    const { source: _source, tokenizer, ...rest } = (s ?? {}) as { source?: unknown; tokenizer?: { vocabSize?: unknown } };
    return { ...rest, vocabSize: tokenizer?.vocabSize };
  });
  return createHash('sha256').update(JSON.stringify(counts)).digest('hex').slice(0, 16);
}

/**
 * Trains the config's training stages on `backend`; their losses per step, by stage, and the
 * data's fingerprint. The data are prepared first: a fingerprint other than `expectData` stops
 * before any training.
 */
async function lossesOn(
  file: string, overrides: string[], backend: string, steps: number, registry: ReadonlyMap<string, AnyStage>, expectData?: { data: string; from: string },
): Promise<{ losses: Record<string, number[]>; data: string }> {
  const stages = [...registry.values()];
  const base = loadPipeline(file, stages, overrides).config;
  const { config } = loadPipeline(file, stages, [...overrides, `backend=${backend}`, ...agreementOverrides(base, registry, steps)]);
  for (const [name, section] of Object.entries(config.stages)) if (CONSUMERS.has(section.kind)) delete config.stages[name];
  const work = mkdtempSync(join(tmpdir(), `exp-agree-${backend}-`));
  config.runsDir = join(work, 'runs');
  try {
    const { startBackend } = await import('../backend.js');
    const { executePipeline } = await import('../pipeline/execute.js');
    const started = await startBackend(config.backend, config.gpu);
    const execute = (c: PipelineConfig) =>
      executePipeline(c, registry, {
        file: resolve(file),
        overrides,
        cacheDir: join(work, 'cache'),
        backend: started,
        log: (line) => console.error(`[${backend}] ${line}`),
      });
    // The tokenizer stages alone first (the full run below reuses them from the cache).
    const prepare = { ...config, stages: Object.fromEntries(Object.entries(config.stages).filter(([, s]) => s.kind === 'tokenizer')) };
    const data = dataFingerprint((await execute(prepare)).map((r) => r.artifact.meta['stats']));
    if (expectData !== undefined && expectData.data !== data) {
      throw new Error(`the data prepared here (fingerprint ${data}) differ from the data of ${expectData.from} (${expectData.data}): another tokenizer or segmentation, so the losses cannot be compared`);
    }
    const losses: Record<string, number[]> = {};
    for (const r of await execute(config)) {
      if (r.artifact.runDir === undefined) continue;
      const series = (await readMetrics(r.artifact.runDir)).series['train/loss'];
      if (series === undefined) throw new Error(`stage ${r.name} logged no train/loss`);
      const byStep = new Map(Array.from(series.step, (s, i): [number, number] => [s, series.value[i]!]));
      losses[r.name] = Array.from({ length: steps }, (_, i) => byStep.get(i + 1) ?? Number.NaN);
    }
    return { losses, data };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Per stage: the largest |a - b| / max(1, |a|) over the steps, and where. */
export function compareLosses(reference: Record<string, number[]>, other: Record<string, number[]>): Array<{ stage: string; worst: number; step: number; first: [number, number]; last: [number, number] }> {
  return Object.entries(reference).map(([stage, ref]) => {
    const got = other[stage];
    if (got === undefined) return { stage, worst: Number.POSITIVE_INFINITY, step: 0, first: [ref[0]!, Number.NaN], last: [ref.at(-1)!, Number.NaN] };
    let worst = 0;
    let step = 0;
    ref.forEach((a, i) => {
      const d = Math.abs(a - got[i]!) / Math.max(1, Math.abs(a));
      if (!(d <= worst)) [worst, step] = [Number.isNaN(d) ? Number.POSITIVE_INFINITY : d, i + 1];
    });
    return { stage, worst, step, first: [ref[0]!, got[0]!], last: [ref.at(-1)!, got.at(-1)!] };
  });
}

export async function agreeCommandAction(file: string, overrides: string[], options: AgreeOptions): Promise<number> {
  const { stageRegistry } = await import('../stages/registry.js');
  const registry = stageRegistry();
  let reference: SavedLosses | undefined;
  if (options.reference !== undefined) {
    // A file of several backends' runs (--save with two backends) holds its reference first.
    const parsed = JSON.parse(readFileSync(options.reference, 'utf8')) as SavedLosses | SavedLosses[];
    const saved = Array.isArray(parsed) ? parsed[0] : parsed;
    if (saved === undefined || typeof saved.steps !== 'number' || typeof saved.losses !== 'object' || typeof saved.data !== 'string') {
      throw new Error(`--reference ${options.reference} is not a file written by exp agree --save (steps, data and losses expected)`);
    }
    // The same count, not a prefix: the learning-rate schedule (warmup, decay) spans the steps.
    if (saved.steps !== options.steps) throw new Error(`--reference ${options.reference} has ${saved.steps} steps, --steps asks for ${options.steps} (the schedule spans the steps: they must be equal)`);
    // Where prepared data is kept (data.output.*) changes no number, and the GPU's adapter and
    // kernels (gpu.*) are what is compared: every other override must match.
    const relevant = (o: string[]) => o.filter((x) => !x.startsWith('data.output.') && !x.startsWith('gpu.')).join(' ');
    if (saved.config !== basename(file) || relevant(saved.overrides) !== relevant(overrides)) {
      throw new Error(`--reference ${options.reference} was saved for ${saved.config} ${relevant(saved.overrides)}, not ${basename(file)} ${relevant(overrides)}`);
    }
    reference = saved;
  }
  const runs: SavedLosses[] = reference ? [reference] : [];
  for (const backend of options.backends) {
    const t0 = performance.now();
    // Every backend on the same data: the reference file's, or the first run's.
    const expect = reference ? { data: reference.data, from: `--reference ${options.reference}` } : runs[0] ? { data: runs[0].data, from: runs[0].backend } : undefined;
    const { losses, data } = await lossesOn(file, overrides, backend, options.steps, registry, expect);
    console.error(`[${backend}] ${Object.keys(losses).length} training stages, ${options.steps} steps each, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    runs.push({ config: basename(file), overrides, steps: options.steps, backend, data, losses });
  }
  if (options.save !== undefined) await writeJsonAtomic(options.save, runs.length === 1 ? runs[0] : runs);
  const [ref, ...others] = runs;
  if (ref === undefined || others.length === 0) {
    console.log(`losses of ${runs.map((r) => r.backend).join(', ')} saved${options.save ? ` to ${options.save}` : ''}; nothing to compare`);
    return 0;
  }
  let failed = false;
  for (const other of others) {
    const rows = compareLosses(ref.losses, other.losses);
    console.log(`\n${other.backend} against ${ref.backend}${reference ? ` (saved in ${options.reference})` : ''}: training loss over the first ${options.steps} steps, |difference| / max(1, |${ref.backend} loss|), tolerance ${options.tolerance}`);
    console.log(
      renderTable(
        ['stage', `step 1 ${ref.backend}`, `step 1 ${other.backend}`, `step ${options.steps} ${ref.backend}`, `step ${options.steps} ${other.backend}`, 'worst difference', 'at step', 'agree'],
        rows.map((r) => [r.stage, r.first[0].toFixed(5), r.first[1].toFixed(5), r.last[0].toFixed(5), r.last[1].toFixed(5), r.worst.toExponential(2), String(r.step), r.worst <= options.tolerance ? 'yes' : 'NO']),
      ),
    );
    failed ||= rows.some((r) => !(r.worst <= options.tolerance));
  }
  return failed ? 1 : 0;
}

export function agreeCommand(): Command {
  return new Command('agree')
    .description("train a config's models a few steps on two backends from the same seed and data, and compare their training losses step by step")
    .argument('<config>', 'pipeline config (YAML)')
    .argument('[overrides...]', 'key.path=value overrides (no sweeps)')
    .option('--backends <list>', 'backends, comma-separated; the first is the reference unless --reference', (v) => v.split(',').filter((b) => b !== ''), ['native', 'webgpu'])
    .option('--steps <n>', 'optimizer steps per training stage', positiveInt, 20)
    .option('--tolerance <x>', 'largest |difference| / max(1, |reference loss|) that agrees', positiveNumber, 1e-3)
    .option('--save <file>', 'write the losses of every backend run (JSON)')
    .option('--reference <file>', 'compare with losses saved by --save instead of running the first backend')
    .action(async (config: string, overrides: string[], options: AgreeOptions) => {
      if (expandSweeps(overrides).length > 1) throw new InvalidArgumentError('agree runs one point: no sweeps (a=1,2) in the overrides');
      process.exitCode = await agreeCommandAction(config, overrides, options);
    });
}
