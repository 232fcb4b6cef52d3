import { appendFileSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { isTempFile, writeFileAtomic, writeJsonAtomic } from '@sentencelab/fs-atomic';
import {
  checkpointName,
  checkpointsDir,
  ensureCheckpointsDir,
  latestCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  setLatestCheckpoint,
  type CheckpointEntry,
  type CheckpointRef,
} from './checkpoints.js';
import { writeEmbeddings, type Embeddings, type EmbeddingsInput } from './embeddings.js';
import { RunFormatError } from './errors.js';
import { acquireRunLock, isLiveLockTemp, type RunLock } from './lock.js';
import {
  cpuSecondsOf,
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
  type RunResources,
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
import { readMetaSync } from './reader.js';
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
  /** The run lock's lease (see `acquireRunLock`); default 60 s, refreshed every third of it. */
  leaseMs?: number;
}

export type WriterOptions = Pick<CreateRunOptions, 'directions' | 'flushEveryRows' | 'flushIntervalMs' | 'leaseMs'>;

/** `openRunForResume` on a run whose status is done: there is nothing to continue. */
export class RunAlreadyDoneError extends Error {
  constructor(readonly runDir: string) {
    super(`run ${runDir} is already done; nothing to resume`);
    this.name = 'RunAlreadyDoneError';
  }
}

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
  const lock = acquireRunLock(dir, options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {});
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
    resources: { cpuUserS: 0, cpuSystemS: 0, loadAvgStart: loadavg() },
  };
  try {
    writeFileAtomic(join(dir, RUN_FILES.config), stringify(options.config ?? {}));
    writeFileAtomic(join(dir, RUN_FILES.overrides), (options.overrides ?? []).map((o) => `${o}\n`).join(''));
    createMetricsFile(join(dir, RUN_FILES.metrics));
    ensureCheckpointsDir(dir);
    writeJsonAtomic(join(dir, RUN_FILES.meta), meta);
  } catch (error) {
    lock.release();
    throw error;
  }
  return new RunWriter(dir, meta, 0, options, lock);
}

/**
 * Creates a run (as {@link createRun}) that starts where a finished run's training ended: the
 * donor's metrics, samples and latest checkpoint are copied in, meta.json records `forkedFrom`
 * (the donor folder and the checkpoint's step) and carries the donor's resources (its CPU time,
 * its training FLOPs), as a resumed run carries its earlier segments. The run is returned open
 * as a resumed one: train with resume and the loop restores the checkpoint and has no step left,
 * so the caller only evaluates the same trained model again (under other evaluation settings).
 * The donor is read, never written.
 */
export function forkRun(donorDir: string, options: CreateRunOptions & { onWarning?: (line: string) => void }): RunWriter {
  const donor = resolve(donorDir);
  const donorMeta = readMetaSync(donor);
  if (donorMeta.status !== 'done') throw new Error(`forkRun: ${donor} is ${donorMeta.status}, not done: only a finished run's training can be taken over`);
  const checkpoint = latestCheckpoint(donor);
  if (!checkpoint) throw new Error(`forkRun: ${donor} has no checkpoint to start from`);
  const created = createRun(options);
  const { dir, meta } = created;
  created.close();
  try {
    copyFileSync(join(donor, RUN_FILES.metrics), join(dir, RUN_FILES.metrics));
    if (existsSync(join(donor, RUN_FILES.samples))) copyFileSync(join(donor, RUN_FILES.samples), join(dir, RUN_FILES.samples));
    const entries = listCheckpoints(donor).find((c) => c.step === checkpoint.step)?.entries ?? [];
    for (const entry of entries) cpSync(join(checkpointsDir(donor), entry), join(checkpointsDir(dir), entry), { recursive: true });
    setLatestCheckpoint(dir, checkpoint.name);
    const carried = donorMeta.resources;
    const forkedFrom: NonNullable<RunMeta['forkedFrom']> = { run: donor, step: checkpoint.step };
    if (carried) {
      forkedFrom.inherited = { cpuUserS: carried.cpuUserS, cpuSystemS: carried.cpuSystemS, ...(carried.trainingFlops !== undefined ? { trainingFlops: carried.trainingFlops } : {}) };
    }
    // The fork's own start load; the donor's CPU time and FLOPs, as a resume's earlier segments.
    const resources = carried ? { resources: { ...carried, loadAvgStart: meta.resources?.loadAvgStart ?? carried.loadAvgStart } } : {};
    writeJsonAtomic(join(dir, RUN_FILES.meta), { ...meta, forkedFrom, ...resources });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // Opened as a resumed run is (the loop restores the checkpoint), but no resume is recorded: nothing was interrupted.
  return openExisting(dir, options, false);
}

/**
 * Reopens a run folder to continue it: takes its lock (throws `RunLockedError` naming the
 * holder while another process writes it), refuses a done run (`RunAlreadyDoneError`), removes
 * temp files that killed writers left, cuts a crash-truncated metrics tail off (with a
 * warning through `onWarning`), sets status back to running and records the resume time.
 * Then call `truncateMetricsAfter(latestCheckpoint().step)` (and `truncateSamplesAfter`) so
 * the steps after the checkpoint are not logged twice.
 */
export function openRunForResume(dir: string, options: WriterOptions & { onWarning?: (line: string) => void } = {}): RunWriter {
  return openExisting(dir, options, true);
}

/** Takes the lock of an existing run folder and reopens it; `recordResume` adds the time to meta.resumedAt. */
function openExisting(dir: string, options: WriterOptions & { onWarning?: (line: string) => void }, recordResume: boolean): RunWriter {
  const runDir = resolve(dir);
  const metaFile = join(runDir, RUN_FILES.meta);
  if (!existsSync(metaFile)) throw new RunFormatError(metaFile, 'missing: not a run folder');
  const lock = acquireRunLock(runDir, options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {});
  try {
    return reopen(runDir, metaFile, lock, options, recordResume);
  } catch (error) {
    lock.release();
    throw error;
  }
}

function reopen(runDir: string, metaFile: string, lock: RunLock, options: WriterOptions & { onWarning?: (line: string) => void }, recordResume: boolean): RunWriter {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(metaFile, 'utf8'));
  } catch (error) {
    throw new RunFormatError(metaFile, `invalid JSON (${(error as Error).message})`);
  }
  const parsed = runMetaSchema.safeParse(raw);
  if (!parsed.success) throw new RunFormatError(metaFile, formatZodIssues(parsed.error));
  if (parsed.data.status === 'done') throw new RunAlreadyDoneError(runDir);
  const warn = options.onWarning ?? ((line: string) => console.warn(line));
  for (const leftover of removeLeftoverTempFiles(runDir)) warn(`removed ${leftover} (left by a writer that was killed)`);
  const metricsFile = join(runDir, RUN_FILES.metrics);
  const cut = repairMetricsFile(metricsFile);
  if (cut > 0) warn(`${metricsFile}: cut off a truncated last batch (${cut} bytes; the rows of an append a crash interrupted, re-logged from the checkpoint)`);
  const { columns } = readMetricsFileSync(metricsFile);
  const meta: RunMeta = { ...parsed.data, status: 'running', resumedAt: recordResume ? [...parsed.data.resumedAt, new Date().toISOString()] : parsed.data.resumedAt };
  delete meta.endedAt;
  delete meta.error;
  writeJsonAtomic(metaFile, meta);
  return new RunWriter(runDir, meta, maxOf(columns.wallTime), options, lock);
}

/** Temp files and folders of killed writers in the run folder and checkpoints/ (only safe while holding the lock; the lock's own temp files only once old: see `isLockTempFile`). */
function removeLeftoverTempFiles(runDir: string): string[] {
  const removed: string[] = [];
  for (const dir of [runDir, checkpointsDir(runDir)]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (!isTempFile(name)) continue;
      if (isLiveLockTemp(dir, name)) continue; // another process taking (or refused) the lock right now
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(join(dir, name));
    }
  }
  return removed;
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
  /** The process's CPU time when this writer opened the run (the resources recorded add what it used since). */
  private readonly cpuAtOpen = process.cpuUsage();
  /** meta.resources as this writer found it (a resumed run's earlier segments); absent for runs from before it was recorded. */
  private readonly resourcesAtOpen: RunResources | undefined;
  private trainingFlopsValue: number | undefined;

  /** The run folder's lock, held until a final status is set (or the process exits). */
  readonly lock: RunLock;

  constructor(dir: string, meta: RunMeta, wallOffset: number, options: WriterOptions, lock: RunLock) {
    this.dir = dir;
    this.lock = lock;
    openWriters.add(this);
    if (openWriters.size === 1) process.on('exit', markOpenRunsOnExit);
    this.metaValue = meta;
    this.resourcesAtOpen = meta.resources;
    this.wallOffset = wallOffset;
    this.directions = { ...(options.directions ?? {}) };
    this.flushEveryRows = options.flushEveryRows ?? 512;
    this.flushIntervalMs = options.flushIntervalMs ?? 2000;
  }

  get meta(): Readonly<RunMeta> {
    return this.metaValue;
  }

  /**
   * CPU seconds (user + system) the run has used so far, its earlier segments included; undefined
   * for a run resumed from before resources were recorded. Every thread of the process counts.
   */
  cpuSeconds(): number | undefined {
    return cpuSecondsOf(this.resources(false));
  }

  /** Records the training steps' FLOPs (written to meta.resources with the next status). */
  setTrainingFlops(flops: number): void {
    if (!(Number.isFinite(flops) && flops >= 0)) throw new Error(`setTrainingFlops: ${flops} is not a count of FLOPs`);
    this.trainingFlopsValue = flops;
  }

  /** The training steps' FLOPs once training has ended (set by the training loop); undefined before, or when they were not counted. */
  trainingFlops(): number | undefined {
    return this.trainingFlopsValue;
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

  /** The metrics logged at `step` (flushed first), by name; the last row of a name wins. */
  metricsAt(step: number): Record<string, number> {
    this.flush();
    const rows = columnsToRows(readMetricsFileSync(join(this.dir, RUN_FILES.metrics)).columns);
    return Object.fromEntries(rows.filter((r) => r.step === step).map((r) => [r.name, r.value]));
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

  /**
   * Records the status; `endedAt` is set for any status but running; `error` only for failed.
   * A final status (done, failed, interrupted) also releases the run's lock, even when the
   * write fails (a full disk): the run then reads as crashed instead of running.
   */
  setStatus(status: RunStatus, error?: unknown): void {
    const meta: RunMeta = { ...this.metaValue, status };
    if (status === 'running') delete meta.endedAt;
    else meta.endedAt = new Date().toISOString();
    const resources = this.resources(status !== 'running');
    if (resources) meta.resources = resources;
    if (status === 'failed' && error !== undefined) meta.error = toRunError(error);
    else delete meta.error;
    try {
      this.flush();
      writeJsonAtomic(join(this.dir, RUN_FILES.meta), meta);
      this.metaValue = meta;
    } finally {
      if (status !== 'running') this.close();
    }
  }

  /**
   * Marks the run failed with `error`, and never throws: when meta.json cannot be written (a
   * full disk) the write error goes to `onWarning` (default stderr) so that `error`, the cause,
   * stays the one the caller reports; the lock is released either way, so the run reads as
   * crashed rather than running.
   */
  fail(error: unknown, onWarning: (line: string) => void = (l) => console.error(l)): void {
    if (this.lock.released) return;
    try {
      this.setStatus('failed', error);
    } catch (writeError) {
      onWarning(`could not record the failure in ${join(this.dir, RUN_FILES.meta)}: ${(writeError as Error).message}`);
    }
  }

  /**
   * CPU seconds (user, system) of the process since this writer opened the run, added to those
   * of earlier segments; with `ended`, the load average now. Every thread of the process counts:
   * a process that runs something else beside the run (two runs at once) charges it to both.
   */
  private resources(ended: boolean): RunResources | undefined {
    const base = this.resourcesAtOpen;
    if (!base) return undefined;
    const used = process.cpuUsage(this.cpuAtOpen);
    return {
      cpuUserS: base.cpuUserS + used.user / 1e6,
      cpuSystemS: base.cpuSystemS + used.system / 1e6,
      loadAvgStart: base.loadAvgStart,
      ...(ended ? { loadAvgEnd: loadavg() } : base.loadAvgEnd ? { loadAvgEnd: base.loadAvgEnd } : {}),
      // Set by this segment's training, else as an earlier segment (or a fork's donor) recorded it.
      ...(this.trainingFlopsValue !== undefined ? { trainingFlops: this.trainingFlopsValue } : base.trainingFlops !== undefined ? { trainingFlops: base.trainingFlops } : {}),
    };
  }

  /** Releases the lock (idempotent); the writer must not write after this. */
  close(): void {
    openWriters.delete(this);
    if (openWriters.size === 0) process.off('exit', markOpenRunsOnExit);
    this.lock.release();
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

  /** Writes embeddings.json (a bounded sample of sentence vectors, see {@link writeEmbeddings}). */
  writeEmbeddings(embeddings: EmbeddingsInput): Embeddings {
    return writeEmbeddings(this.dir, embeddings);
  }

  /** Appends one line to log.txt. */
  log(line: string): void {
    appendFileSync(join(this.dir, RUN_FILES.log), line.endsWith('\n') ? line : `${line}\n`);
  }

  /**
   * Where the checkpoint of `step` goes (`checkpoints/step-00000100`); the folder `checkpoints/`
   * exists. Flushes the metrics first: a resume may start from the newest checkpoint file when
   * `latest` has not moved yet (a kill in between), so no file may be written before the metrics
   * of the steps it covers are on disk.
   */
  checkpointPath(step: number): string {
    this.flush();
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

const openWriters = new Set<RunWriter>();

/**
 * A process that exits while a run of it is still running (process.exit, a second Ctrl-C)
 * records why, so the run does not look alive; a SIGKILLed one is seen through its stale lock.
 */
function markOpenRunsOnExit(code: number): void {
  for (const run of [...openWriters]) {
    try {
      run.setStatus(code === 130 || code === 143 ? 'interrupted' : 'failed', new Error(`the process exited (code ${code}) before the run finished`));
    } catch {
      run.close();
    }
  }
}

function toRunError(error: unknown): RunError {
  if (error instanceof Error) return error.stack ? { message: error.message, stack: error.stack } : { message: error.message };
  return { message: String(error) };
}

