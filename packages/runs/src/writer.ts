import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic, writeJsonAtomic } from '@sentencelab/fs-atomic';
import {
  checkpointName,
  ensureCheckpointsDir,
  latestCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  setLatestCheckpoint,
  type CheckpointEntry,
  type CheckpointRef,
} from './checkpoints.js';
import { RunFormatError } from './errors.js';
import {
  RUN_FILES,
  formatVersion,
  formatZodIssues,
  runMetaSchema,
  sampleSchema,
  type EvalValue,
  type GitInfo,
  type MachineInfo,
  type MetricDirection,
  type RunError,
  type RunMeta,
  type RunStatus,
  type Sample,
  type Summary,
} from './format.js';
import { collectGitInfo, collectMachineInfo } from './machine.js';
import {
  appendMetrics,
  columnsToRows,
  createMetricsFile,
  readMetricsFileSync,
  repairMetricsFile,
  rewriteMetricsFile,
  type MetricRow,
} from './metrics-file.js';
import { assertPathSegment, defaultRunId } from './names.js';
import { buildSummary } from './summary.js';
import { readSamplesText } from './samples.js';

export interface CreateRunOptions {
  /** The runs folder, e.g. `./runs`. */
  root: string;
  experiment: string;
  /** Defaults to a timestamp id; must not exist yet. */
  runId?: string;
  /** The fully resolved config, written as config.yaml. */
  config: unknown;
  /** Command-line overrides (`a.b=value`), one per line in overrides.txt. */
  overrides?: readonly string[];
  seed: number;
  backend: string;
  backendInfo?: Record<string, unknown>;
  /** Defaults to `collectGitInfo(process.cwd())`. */
  git?: GitInfo;
  /** Defaults to `collectMachineInfo()`. */
  machine?: MachineInfo;
  /** package name -> version (see `collectPackageVersions`). */
  packages?: Record<string, string>;
  /** Per-metric direction for best values; unnamed metrics use `metricDirection(name)`. */
  directions?: Record<string, MetricDirection>;
  /** Buffered metric rows are appended once this many are pending (default 512)... */
  flushEveryRows?: number;
  /** ...or when this long has passed since the last append (default 2000 ms). */
  flushIntervalMs?: number;
}

export type WriterOptions = Pick<CreateRunOptions, 'directions' | 'flushEveryRows' | 'flushIntervalMs'>;

/**
 * Creates `root/<experiment>/<runId>/` with config.yaml, overrides.txt, meta.json (status
 * running), an empty metrics.arrow and checkpoints/. Fails if the folder exists.
 */
export function createRun(options: CreateRunOptions): RunWriter {
  assertPathSegment('experiment', options.experiment);
  const runId = options.runId ?? defaultRunId();
  assertPathSegment('run id', runId);
  if (!Number.isInteger(options.seed)) throw new Error(`createRun: seed must be an integer, got ${options.seed}`);
  const experimentDir = resolve(options.root, options.experiment);
  mkdirSync(experimentDir, { recursive: true });
  const dir = join(experimentDir, runId);
  try {
    mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new Error(`run folder ${dir} already exists (choose another run id, or resume it)`);
    }
    throw error;
  }
  const meta: RunMeta = {
    formatVersion,
    experiment: options.experiment,
    runId,
    status: 'running',
    startedAt: new Date().toISOString(),
    resumedAt: [],
    git: options.git ?? collectGitInfo(),
    packages: options.packages ?? {},
    backend: options.backend,
    ...(options.backendInfo ? { backendInfo: options.backendInfo } : {}),
    machine: options.machine ?? collectMachineInfo(),
    seed: options.seed,
  };
  writeFileAtomic(join(dir, RUN_FILES.config), stringify(options.config ?? {}));
  writeFileAtomic(join(dir, RUN_FILES.overrides), (options.overrides ?? []).map((o) => `${o}\n`).join(''));
  createMetricsFile(join(dir, RUN_FILES.metrics));
  ensureCheckpointsDir(dir);
  writeJsonAtomic(join(dir, RUN_FILES.meta), meta);
  return new RunWriter(dir, meta, 0, options);
}

/**
 * Reopens a run folder to continue it: status back to running, the resume time recorded, a
 * crash-truncated metrics tail cut off. Then call `truncateMetricsAfter(latestCheckpoint().step)`
 * (and `truncateSamplesAfter`) so the steps after the checkpoint are not logged twice.
 */
export function openRunForResume(dir: string, options: WriterOptions = {}): RunWriter {
  const runDir = resolve(dir);
  const metaFile = join(runDir, RUN_FILES.meta);
  if (!existsSync(metaFile)) throw new RunFormatError(metaFile, 'missing: not a run folder');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(metaFile, 'utf8'));
  } catch (error) {
    throw new RunFormatError(metaFile, `invalid JSON (${(error as Error).message})`);
  }
  const parsed = runMetaSchema.safeParse(raw);
  if (!parsed.success) throw new RunFormatError(metaFile, formatZodIssues(parsed.error));
  const metricsFile = join(runDir, RUN_FILES.metrics);
  repairMetricsFile(metricsFile);
  const { columns } = readMetricsFileSync(metricsFile);
  const meta: RunMeta = { ...parsed.data, status: 'running', resumedAt: [...parsed.data.resumedAt, new Date().toISOString()] };
  delete meta.endedAt;
  delete meta.error;
  writeJsonAtomic(metaFile, meta);
  return new RunWriter(runDir, meta, maxOf(columns.wallTime), options);
}

function maxOf(values: Float64Array): number {
  let m = 0;
  for (const v of values) if (v > m) m = v;
  return m;
}

export class RunWriter {
  readonly dir: string;
  private metaValue: RunMeta;
  private pending: MetricRow[] = [];
  private lastFlush = Date.now();
  /** Wall time continues across resumes: seconds logged before this process started. */
  private wallOffset: number;
  private clockStart = performance.now();
  private readonly directions: Record<string, MetricDirection>;
  private readonly flushEveryRows: number;
  private readonly flushIntervalMs: number;

  constructor(dir: string, meta: RunMeta, wallOffset: number, options: WriterOptions) {
    this.dir = dir;
    this.metaValue = meta;
    this.wallOffset = wallOffset;
    this.directions = { ...(options.directions ?? {}) };
    this.flushEveryRows = options.flushEveryRows ?? 512;
    this.flushIntervalMs = options.flushIntervalMs ?? 2000;
  }

  get meta(): Readonly<RunMeta> {
    return this.metaValue;
  }

  /** Seconds since the run started (continuing across resumes). */
  wallTime(): number {
    return this.wallOffset + (performance.now() - this.clockStart) / 1000;
  }

  /**
   * Buffers one row per metric at `step`; appends to metrics.arrow (fsynced) when enough rows
   * are pending or enough time has passed. NaN/Inf values are kept (summaries skip them).
   */
  logMetrics(step: number, values: Readonly<Record<string, number>>, wallTime: number = this.wallTime()): void {
    if (!Number.isInteger(step) || step < 0 || step > 0x7fffffff) {
      throw new Error(`logMetrics: step must be an integer in [0, 2^31), got ${step}`);
    }
    for (const [name, value] of Object.entries(values)) {
      if (name.length === 0) throw new Error('logMetrics: metric names must not be empty');
      if (typeof value !== 'number') throw new Error(`logMetrics: metric "${name}" at step ${step} is not a number`);
      this.pending.push({ step, wallTime, name, value });
    }
    if (this.pending.length >= this.flushEveryRows || Date.now() - this.lastFlush >= this.flushIntervalMs) this.flush();
  }

  /** Appends buffered metrics as one record batch and fsyncs. */
  flush(): void {
    appendMetrics(join(this.dir, RUN_FILES.metrics), this.pending);
    this.pending = [];
    this.lastFlush = Date.now();
  }

  /** Drops metric rows with step > `step` (atomic rewrite); wall time continues from the kept rows. */
  truncateMetricsAfter(step: number): void {
    this.flush();
    const file = join(this.dir, RUN_FILES.metrics);
    const rows = columnsToRows(readMetricsFileSync(file).columns).filter((r) => r.step <= step);
    rewriteMetricsFile(file, rows);
    this.wallOffset = rows.reduce((m, r) => Math.max(m, r.wallTime), 0);
    this.clockStart = performance.now();
  }

  /** Drops samples with step > `step` (atomic rewrite). */
  truncateSamplesAfter(step: number): void {
    const file = join(this.dir, RUN_FILES.samples);
    if (!existsSync(file)) return;
    const kept = readSamplesText(readFileSync(file, 'utf8'), file).samples.filter((s) => s.step <= step);
    writeFileAtomic(file, kept.map((s) => `${JSON.stringify(s)}\n`).join(''));
  }

  /** Records the status; `endedAt` is set for any status but running; `error` only for failed. */
  setStatus(status: RunStatus, error?: unknown): void {
    this.flush();
    const meta: RunMeta = { ...this.metaValue, status };
    if (status === 'running') delete meta.endedAt;
    else meta.endedAt = new Date().toISOString();
    if (status === 'failed' && error !== undefined) meta.error = toRunError(error);
    else delete meta.error;
    writeJsonAtomic(join(this.dir, RUN_FILES.meta), meta);
    this.metaValue = meta;
  }

  /** Computes last/min/max/best of every metric logged so far and writes summary.json with `evalResults`. */
  writeSummary(evalResults: Record<string, EvalValue> = {}): Summary {
    this.flush();
    const { columns } = readMetricsFileSync(join(this.dir, RUN_FILES.metrics));
    const summary = buildSummary(columns, evalResults, this.directions);
    writeJsonAtomic(join(this.dir, RUN_FILES.summary), summary);
    return summary;
  }

  appendSample(sample: Sample): void {
    const parsed = sampleSchema.safeParse(sample);
    if (!parsed.success) throw new Error(`appendSample: ${formatZodIssues(parsed.error)}`);
    appendFileSync(join(this.dir, RUN_FILES.samples), `${JSON.stringify(parsed.data)}\n`);
  }

  /** Appends one line to log.txt. */
  log(line: string): void {
    appendFileSync(join(this.dir, RUN_FILES.log), line.endsWith('\n') ? line : `${line}\n`);
  }

  /** Where the checkpoint of `step` goes (`checkpoints/step-00000100`); the folder `checkpoints/` exists. */
  checkpointPath(step: number): string {
    return join(ensureCheckpointsDir(this.dir), checkpointName(step));
  }

  /** Flushes metrics (so every metric up to the checkpoint is durable), then moves `latest`. */
  setLatestCheckpoint(name: string): void {
    this.flush();
    setLatestCheckpoint(this.dir, name);
  }

  latestCheckpoint(): CheckpointRef | undefined {
    return latestCheckpoint(this.dir);
  }

  listCheckpoints(): CheckpointEntry[] {
    return listCheckpoints(this.dir);
  }

  /** Keeps the newest `keep` checkpoints (and always the latest one); returns deleted names. */
  pruneCheckpoints(keep: number): string[] {
    return pruneCheckpoints(this.dir, keep);
  }
}

function toRunError(error: unknown): RunError {
  if (error instanceof Error) return error.stack ? { message: error.message, stack: error.stack } : { message: error.message };
  return { message: String(error) };
}

