import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  collectPackageVersions,
  createRun,
  defaultRunId,
  forkRun,
  mergeEvalResults,
  openRunForResume,
  readSummary,
  type CreateRunOptions,
  type EvalValue,
  type RunWriter,
} from '@sentencelab/runs';
import { writeJsonAtomic } from '@sentencelab/fs-atomic';
import { FlopCounter } from '@sentencelab/tensor';
import { codeVersion, stageHash, withoutPaths } from '../stages/hash.js';
import type { AnyStage, Artifact, PipelineConfig, PipelineShared } from '../stages/types.js';
import type { Progress } from '../train/progress.js';
import { computeKey, type StartedBackend } from '../backend.js';
import { gpuMemoryMb } from '../train/system-metrics.js';
import { ArtifactCache } from './cache.js';
import { COMPUTE_KEY, stageCompute } from './compute.js';
import { planPipeline, type PlannedStage } from './plan.js';

/** A file every training stage's run folder gets beside the runs format's own files. */
export const STAGE_FILE = 'stage.json';

/** What `stage.json` says: which stage of the run's config.yaml the folder belongs to. */
export interface StageRecord {
  stage: string;
  kind: string;
  hash: string;
  /** Sweep point label (`lr=0.001`), '' outside sweeps. */
  label: string;
  /** The hash of what trained the model (see {@link trainingHashes}); absent in older folders of stages that had no evaluation-only options (before 2026-12-07). */
  trainingHash?: string;
}

export interface ExecuteOptions {
  /** The config file the pipeline came from (for error messages). */
  file?: string;
  /** The command-line overrides of this point (written to overrides.txt). */
  overrides: string[];
  /** Sweep point label, part of the run ids (`lm@lr=0.001-...`). */
  label?: string;
  /** The artifact cache folder (default `.cache/stages`). */
  cacheDir?: string;
  /** Continue this run folder (its stage is re-run from its latest checkpoint). */
  resumeRunDir?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /**
   * The backend in use after `startBackend` (its name recorded as meta.json `backend`, a device
   * or native kernels it reported as `backendInfo.device` / `backendInfo.native`); default: the
   * config's choice, nothing more.
   */
  backend?: StartedBackend;
  /** Called when a training stage's run folder is created or reopened (queue workers record it in the job). */
  onRunFolder?: (stage: string, runDir: string) => void | Promise<void>;
  /** Where training stages report step, loss and tokens/s (default: a bar or lines on stderr). */
  progress?: (label: string) => Progress;
}

export interface StageReport {
  name: string;
  kind: string;
  hash: string;
  reused: boolean;
  seconds: number;
  artifact: Artifact;
}

/**
 * Runs a validated pipeline: stages in dependency order, each reused from the cache when its
 * content hash is unchanged. A training stage gets a run folder; one interrupted earlier with
 * the same hash is resumed instead of started over.
 */
export async function executePipeline(
  config: PipelineConfig,
  registry: ReadonlyMap<string, AnyStage>,
  options: ExecuteOptions,
): Promise<StageReport[]> {
  const plan = planPipeline(config, registry, options.file);
  const cache = new ArtifactCache(options.cacheDir ?? '.cache/stages');
  const log = options.log ?? ((l: string) => console.error(l));
  const signal = options.signal ?? new AbortController().signal;
  const shared: PipelineShared = { name: config.name, seed: config.seed, backend: config.backend, runsDir: config.runsDir, data: config.data };
  const resumeRecord = options.resumeRunDir ? readStageRecord(options.resumeRunDir) : undefined;
  if (resumeRecord && !plan.some((p) => p.name === resumeRecord.stage)) {
    throw new Error(`${options.resumeRunDir}: stage "${resumeRecord.stage}" is not in the run's config.yaml`);
  }
  const artifacts = new Map<string, Artifact>();
  const reports: StageReport[] = [];
  const computedOn = options.backend && computeKey(options.backend);
  const hashes = stageHashes(plan, shared, computedOn);
  const training = trainingHashes(plan, shared, hashes, computedOn);
  for (const p of plan) {
    if (signal.aborted) break;
    const inputs = inputArtifacts(p, artifacts);
    const hash = hashes.get(p.name)!;
    const isResumeTarget = resumeRecord?.stage === p.name;
    const hit = isResumeTarget ? undefined : cache.get(hash);
    const usable = (a: Artifact): boolean => p.stage.isUsable?.(a) ?? true;
    const cached = hit && usable(hit) ? hit : undefined;
    if (hit && !cached) log(`[${p.name}] cached artifact ${hash.slice(0, 12)} is no longer usable (its files moved); recomputing`);
    if (cached) {
      log(`[${p.name}] reused ${p.stage.kind} artifact ${hash.slice(0, 12)} (inputs unchanged)`);
      artifacts.set(p.name, { ...cached, stage: p.name });
      reports.push({ name: p.name, kind: p.stage.kind, hash, reused: true, seconds: 0, artifact: cached });
      continue;
    }
    const t0 = performance.now();
    const cost = startCost();
    // A stage without training steps (a tokenizer, embeddings) costs the products it ran; a training stage, its steps' (the loop counts them, so nothing here).
    const stageFlops = p.stage.trains ? undefined : new FlopCounter().start();
    const staging = cache.staging(hash);
    let run: RunWriter | undefined;
    let resume = false;
    try {
      if (p.stage.trains) {
        const previous = isResumeTarget ? resolve(options.resumeRunDir!) : interruptedRun(cache, hash, config.runsDir);
        ({ run, resume } = openStageRun(config, p, hash, training.get(p.name)!, previous, cache, options, log));
        writeFileSync(`${cache.pathOf(hash)}.run`, `${run.dir}\n`);
        await options.onRunFolder?.(p.name, run.dir);
      }
      const output = await p.stage.run({
        name: p.name,
        config: p.options,
        pipeline: shared,
        inputs,
        hash,
        outDir: staging,
        seed: config.seed,
        run,
        resume,
        signal,
        ...(options.progress ? { progress: options.progress } : {}),
        stages: registry,
        log: (line) => {
          log(`[${p.name}] ${line}`);
          run?.log(line);
        },
      });
      const artifact = cache.commit(staging, {
        stage: p.name,
        kind: p.stage.kind,
        hash,
        files: output.files,
        // A resumed run's earlier segments count (the run folder sums them); a stage without one costs what this process used.
        meta: {
          ...output.meta,
          [COMPUTE_KEY]: stageCompute(run?.cpuSeconds() ?? cpuSince(cost), builtOn(p, inputs), {
            wallS: run?.wallTime() ?? (performance.now() - t0) / 1000,
            backend: tf.getBackend(),
            flops: run ? run.trainingFlops() : stageFlops?.flops,
          }),
        },
        ...(run ? { runDir: run.dir } : {}),
        createdAt: new Date().toISOString(),
      }, usable);
      if (run && run.meta.status === 'running') run.setStatus('done');
      if (run) cache.recordTrainedRun(training.get(p.name)!, run.dir);
      const seconds = (performance.now() - t0) / 1000;
      if (!p.stage.trains) await recordStageCost(inputs, p.name, p.stage.kind, cost);
      const gpu = gpuMemoryMb();
      // Where the backend holds GPU buffers (webgpu) and this or an earlier stage made some.
      const gpuNote = gpu === undefined || gpu.held === 0 ? '' : ` (GPU buffers held ${gpu.held.toFixed(1)} MB, in use ${gpu.used.toFixed(1)} MB)`;
      log(`[${p.name}] done in ${seconds.toFixed(1)} s${gpuNote}`);
      artifacts.set(p.name, artifact);
      reports.push({ name: p.name, kind: p.stage.kind, hash, reused: false, seconds, artifact });
    } catch (e) {
      cache.discard(staging);
      if (run && run.meta.status === 'running') run.fail(e, log);
      throw e;
    } finally {
      stageFlops?.stop();
    }
  }
  return reports;
}

/** The inputs a stage builds on: all but those it reads only the record of (a FLOP budget's stage), whose cost is not its own. */
function builtOn(p: PlannedStage, inputs: Record<string, Artifact | Artifact[]>): Record<string, Artifact | Artifact[]> {
  return Object.fromEntries(Object.entries(inputs).filter(([slot]) => p.stage.inputs[slot]?.recordOnly !== true));
}

/** summary.json `eval` key under which a stage without a run folder (eval, bench) records its cost in the runs of the models it took. */
export const STAGE_COSTS_KEY = 'stage_costs';

/** What a stage without a run folder cost: one entry of {@link STAGE_COSTS_KEY}, keyed by stage name. */
export interface StageCost {
  kind: string;
  startedAt: string;
  wall_s: number;
  /** CPU seconds of the whole process (every thread) while the stage ran. */
  cpu_user_s: number;
  cpu_system_s: number;
  /** os.loadavg() (1, 5, 15 min) at the stage's start and end. */
  load_avg_start: number[];
  load_avg_end: number[];
}

function cpuSince(start: ReturnType<typeof startCost>): number {
  const cpu = process.cpuUsage(start.cpu);
  return (cpu.user + cpu.system) / 1e6;
}

function startCost(): { startedAt: string; t0: number; cpu: NodeJS.CpuUsage; load: number[] } {
  return { startedAt: new Date().toISOString(), t0: performance.now(), cpu: process.cpuUsage(), load: loadavg() };
}

/**
 * Records a finished stage's wall time, CPU time and load in the summary of every input that has
 * a run folder (the models an eval or bench stage measured), beside the figures it merged there,
 * so that `exp results` can count the stages that have no run folder of their own.
 */
async function recordStageCost(inputs: Record<string, Artifact | Artifact[]>, stage: string, kind: string, start: ReturnType<typeof startCost>): Promise<void> {
  const cpu = process.cpuUsage(start.cpu);
  const cost: StageCost = {
    kind,
    startedAt: start.startedAt,
    wall_s: (performance.now() - start.t0) / 1000,
    cpu_user_s: cpu.user / 1e6,
    cpu_system_s: cpu.system / 1e6,
    load_avg_start: start.load,
    load_avg_end: loadavg(),
  };
  const dirs = new Set(Object.values(inputs).flat().flatMap((a) => (a.runDir ? [a.runDir] : [])));
  for (const dir of dirs) {
    const earlier = (await readSummary(dir))?.eval[STAGE_COSTS_KEY];
    const costs = earlier !== null && typeof earlier === 'object' && !Array.isArray(earlier) ? earlier : {};
    await mergeEvalResults(dir, { [STAGE_COSTS_KEY]: { ...costs, [stage]: cost as unknown as EvalValue } });
  }
}

/**
 * The content hash of every planned stage, known before anything runs: kind, options, the
 * seed/backend/data section, the hashes of its inputs and the source of the packages it runs;
 * with `computedOn`, what the running backend's numbers depend on ({@link computeKey}: its
 * kernels). Without it (planning a queue's shared stages, before any worker has a backend) the
 * hashes still tell which points share a stage.
 */
export function stageHashes(
  plan: readonly PlannedStage[],
  shared: Pick<PipelineShared, 'seed' | 'backend' | 'data'>,
  computedOn?: Record<string, string>,
): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const p of plan) hashes.set(p.name, stageHash(hashParts(p, p.options, shared, hashes, computedOn)));
  return hashes;
}

/**
 * The training hash of every training stage: its stage hash computed without its `evalOnly`
 * options and with the training hashes of the training stages it builds on in place of their
 * stage hashes (marked as a training hash). Equal for configs that train the same model: a
 * SentenceVAE evaluated on more sentences feeds the same weights to the SLLM after it.
 * Non-training inputs (the tokenizer) count by their stage hash.
 */
export function trainingHashes(
  plan: readonly PlannedStage[],
  shared: Pick<PipelineShared, 'seed' | 'backend' | 'data'>,
  hashes: ReadonlyMap<string, string>,
  computedOn?: Record<string, string>,
): Map<string, string> {
  const out = new Map<string, string>();
  // What each stage's output is made of: a training stage's model, any other stage's artifact.
  const models = new Map(hashes);
  for (const p of plan) {
    if (!p.stage.trains) continue;
    const hash = stageHash({ ...hashParts(p, withoutPaths(p.options, p.stage.evalOnly ?? []), shared, models, computedOn), scope: 'training' });
    out.set(p.name, hash);
    models.set(p.name, hash);
  }
  return out;
}

/** Why a stage's model can be taken from another run: what may differ between the two configs. */
function forkReason(p: PlannedStage): string {
  const own = p.stage.evalOnly?.length ? `its ${p.stage.evalOnly.join(', ')} or ` : '';
  return `the same training: only ${own}the evaluation options of the stages it builds on differ`;
}

function hashParts(p: PlannedStage, config: unknown, shared: Pick<PipelineShared, 'seed' | 'backend' | 'data'>, hashes: ReadonlyMap<string, string>, computedOn: Record<string, string> | undefined): Parameters<typeof stageHash>[0] {
  return {
    kind: p.stage.kind,
    config,
    shared: { seed: shared.seed, backend: shared.backend, data: shared.data },
    inputs: Object.fromEntries(Object.entries(p.inputs).map(([k, v]) => [k, Array.isArray(v) ? v.map((n) => hashes.get(n)!) : hashes.get(v)!])),
    code: codeVersion(p.stage.packages),
    ...(computedOn !== undefined ? { computedOn } : {}),
  };
}

function inputArtifacts(p: PlannedStage, done: ReadonlyMap<string, Artifact>): Record<string, Artifact | Artifact[]> {
  const get = (n: string): Artifact => {
    const a = done.get(n);
    if (!a) throw new Error(`stage ${p.name}: input stage "${n}" has no artifact (it did not run)`);
    return a;
  };
  return Object.fromEntries(Object.entries(p.inputs).map(([slot, ref]) => [slot, Array.isArray(ref) ? ref.map(get) : get(ref)]));
}

/**
 * The run folder a training stage writes: the interrupted run `previous`, continued; else a fork
 * of the latest finished run of the same training (only evaluation options differ, here or in
 * a stage it builds on), which only evaluates; else a new run (also when the fork is refused).
 */
function openStageRun(
  config: PipelineConfig,
  p: PlannedStage,
  hash: string,
  trainingHash: string,
  previous: string | undefined,
  cache: ArtifactCache,
  options: ExecuteOptions,
  log: (line: string) => void,
): { run: RunWriter; resume: boolean } {
  if (previous) {
    const run = openRunForResume(previous);
    log(`[${p.name}] resuming ${previous}`);
    return { run, resume: true };
  }
  const donor = cache.trainedRun(trainingHash);
  if (donor !== undefined) {
    try {
      const run = createStageRun(config, p, hash, options, trainingHash, donor);
      log(`[${p.name}] run folder ${run.dir}: the trained model of ${donor} (${forkReason(p)}), evaluated again`);
      return { run, resume: true };
    } catch (e) {
      log(`[${p.name}] cannot take over the trained model of ${donor} (${(e as Error).message}); training it`);
    }
  }
  const run = createStageRun(config, p, hash, options, trainingHash);
  log(`[${p.name}] run folder ${run.dir}`);
  return { run, resume: false };
}

function createStageRun(config: PipelineConfig, p: PlannedStage, hash: string, options: ExecuteOptions, trainingHash: string, donor?: string): RunWriter {
  const label = options.label ?? '';
  const create = donor === undefined ? createRun : (o: CreateRunOptions) => forkRun(donor, o);
  const run = create({
    root: resolve(config.runsDir),
    experiment: config.name,
    runId: `${p.name}${label ? `@${label}` : ''}-${defaultRunId()}`,
    config,
    overrides: options.overrides,
    seed: config.seed,
    backend: options.backend?.backend ?? config.backend,
    backendInfo: {
      requested: config.backend,
      stage: p.name,
      kind: p.stage.kind,
      ...(options.backend?.device !== undefined ? { device: options.backend.device } : {}),
      ...(options.backend?.native !== undefined ? { native: options.backend.native } : {}),
    },
    packages: collectPackageVersions(['@sentencelab/exp', ...p.stage.packages, '@tensorflow/tfjs-core'], resolve('.')),
  });
  const record: StageRecord = { stage: p.name, kind: p.stage.kind, hash, label, trainingHash };
  writeJsonAtomic(join(run.dir, STAGE_FILE), record);
  return run;
}

/**
 * The run an earlier process left interrupted for this hash, if any, so `run` again continues
 * it; only one under this pipeline's runsDir (a run asked for elsewhere starts its own folder
 * there rather than growing one in a folder the user has moved away from).
 */
function interruptedRun(cache: ArtifactCache, hash: string, runsDir: string): string | undefined {
  const pointer = `${cache.pathOf(hash)}.run`;
  if (!existsSync(pointer)) return undefined;
  const dir = readFileSync(pointer, 'utf8').trim();
  if (!resolve(dir).startsWith(resolve(runsDir) + sep)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { status?: string };
    return meta.status === 'interrupted' ? dir : undefined;
  } catch {
    return undefined;
  }
}

export function readStageRecord(runDir: string): StageRecord {
  const file = join(resolve(runDir), STAGE_FILE);
  if (!existsSync(file)) throw new Error(`${file}: missing (not a run folder written by pnpm exp run)`);
  return JSON.parse(readFileSync(file, 'utf8')) as StageRecord;
}
