import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';
import { RunFormatError } from './errors.js';
import { runDisplayStatus, type RunDisplayStatus } from './lock.js';
import {
  RUN_FILES,
  formatVersion,
  formatZodIssues,
  runMetaSchema,
  summarySchema,
  type RunMeta,
  type Sample,
  type Summary,
} from './format.js';
import { readMetricsFile, type MetricColumns } from './metrics-file.js';
import { readSamplesFile } from './samples.js';

/** A folder at `root/<experiment>/<run-id>/`, before anything in it is read. */
export interface RunFolder {
  /** `<experiment>/<run-id>` */
  id: string;
  experiment: string;
  runId: string;
  dir: string;
}

export interface RunInfoOk extends RunFolder {
  ok: true;
  meta: RunMeta;
  /** meta.status, except `crashed` for a run that says running while no live process holds its lock. */
  status: RunDisplayStatus;
  /** Absent while a run has not written its summary yet. */
  summary?: Summary;
  /** Only with `listRuns(root, { config: true })`. */
  config?: unknown;
  /** Modification time of metrics.arrow in ms (to notice new points cheaply). */
  metricsMtimeMs?: number;
}

export interface RunInfoError extends RunFolder {
  ok: false;
  /** Which file is wrong and why. */
  error: string;
}

export type RunInfo = RunInfoOk | RunInfoError;

export interface ListRunsOptions {
  /** Also parse config.yaml of every run (default false). */
  config?: boolean;
}

/**
 * Every `root/<experiment>/<run-id>/` folder (either may be a symbolic link to a folder, so runs
 * made under several runs folders can be gathered under one), sorted by id. Reads only meta.json and
 * summary.json (and config.yaml if asked). A folder that cannot be read as a run becomes an
 * `ok: false` entry naming the file and reason; this never throws for one bad run.
 */
export async function listRuns(root: string, options: ListRunsOptions = {}): Promise<RunInfo[]> {
  return (await listRunFolders(root)).map((f) => readRunInfoSync(f, options));
}

/** The run folders under `root` (two levels: experiment, run id; links to folders followed), sorted by id; reads no file. */
export async function listRunFolders(root: string): Promise<RunFolder[]> {
  const rootDir = resolve(root);
  const folders: RunFolder[] = [];
  for (const experiment of subfolders(rootDir)) {
    for (const runId of subfolders(join(rootDir, experiment))) {
      folders.push({ id: `${experiment}/${runId}`, experiment, runId, dir: join(rootDir, experiment, runId) });
    }
  }
  return folders.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function subfolders(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  // A symbolic link to a folder counts as the folder (runs gathered from several runs folders); a dangling one is skipped.
  return entries.filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isSymbolicLink() && isFolder(join(dir, e.name))))).map((e) => e.name);
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Reads one folder as `listRuns` does; never throws (a bad run is an `ok: false` entry). */
export async function readRunInfo(folder: RunFolder, options: { config?: boolean } = {}): Promise<RunInfo> {
  return readRunInfoSync(folder, options);
}

// meta.json, summary.json and config.yaml are a few KB: synchronous reads of 1,000 runs take a
// fraction of the time that 3,000 trips through libuv's thread pool do.
function readRunInfoSync(folder: RunFolder, options: { config?: boolean }): RunInfo {
  try {
    const meta = readMetaSync(folder.dir);
    const summary = summaryOf(folder.dir);
    const info: RunInfoOk = { ...folder, ok: true, meta, status: runDisplayStatus(folder.dir, meta.status) };
    if (summary) info.summary = summary;
    if (options.config) info.config = configOf(folder.dir);
    try {
      info.metricsMtimeMs = statSync(join(folder.dir, RUN_FILES.metrics)).mtimeMs;
    } catch {
      // no metrics file yet: nothing to stamp
    }
    return info;
  } catch (error) {
    return { ...folder, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

function readText(file: string, missing: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new RunFormatError(file, missing);
    throw new RunFormatError(file, (error as Error).message);
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RunFormatError(file, `invalid JSON (${(error as Error).message})`);
  }
}

function checkVersion(value: unknown, file: string): void {
  const v = (value as { formatVersion?: unknown } | null)?.formatVersion;
  if (v === formatVersion) return;
  if (typeof v === 'number' && v > formatVersion) {
    throw new RunFormatError(file, `formatVersion ${v} is newer than this reader (${formatVersion}); upgrade @sentencelab/runs`);
  }
  throw new RunFormatError(file, `older or unknown format (formatVersion ${JSON.stringify(v)}, expected ${formatVersion})`);
}

function validate<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  checkVersion(value, file);
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RunFormatError(file, formatZodIssues(parsed.error));
  return parsed.data;
}

/** meta.json, validated, read synchronously (the writer's fork reads its donor with it); throws `RunFormatError` naming the file and reason. */
export function readMetaSync(dir: string): RunMeta {
  const file = join(dir, RUN_FILES.meta);
  const text = readText(file, 'missing (half-written run, or not a run folder)');
  return validate(runMetaSchema, parseJson(text, file), file);
}

function summaryOf(dir: string): Summary | undefined {
  const file = join(dir, RUN_FILES.summary);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RunFormatError(file, (error as Error).message);
  }
  return validate(summarySchema, parseJson(text, file), file);
}

function configOf(dir: string): unknown {
  const file = join(dir, RUN_FILES.config);
  const text = readText(file, 'missing');
  try {
    return parse(text) ?? {};
  } catch (error) {
    throw new RunFormatError(file, `invalid YAML (${(error as Error).message})`);
  }
}

/** meta.json, validated; throws `RunFormatError` naming the file and reason. */
export async function readMeta(dir: string): Promise<RunMeta> {
  return readMetaSync(dir);
}

/** summary.json, or undefined when the run has not written one. */
export async function readSummary(dir: string): Promise<Summary | undefined> {
  return summaryOf(dir);
}

export async function readConfig(dir: string): Promise<unknown> {
  return configOf(dir);
}

export async function readOverrides(dir: string): Promise<string[]> {
  const file = join(dir, RUN_FILES.overrides);
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim().length > 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new RunFormatError(file, (error as Error).message);
  }
}

export interface RunData {
  dir: string;
  meta: RunMeta;
  config: unknown;
  overrides: string[];
  summary?: Summary;
}

/** meta, config, overrides and summary of one run; throws `RunFormatError` naming the bad file. */
export async function readRun(dir: string): Promise<RunData> {
  const runDir = resolve(dir);
  const [meta, config, overrides, summary] = await Promise.all([
    readMeta(runDir),
    readConfig(runDir),
    readOverrides(runDir),
    readSummary(runDir),
  ]);
  return summary ? { dir: runDir, meta, config, overrides, summary } : { dir: runDir, meta, config, overrides };
}

/** One metric over time, ordered as logged. */
export interface MetricSeries {
  step: Int32Array;
  wallTime: Float64Array;
  value: Float64Array;
}

export interface MetricsData {
  /** All rows (only the requested names when `names` is given). */
  columns: MetricColumns;
  /** The same rows split per metric name. */
  series: Record<string, MetricSeries>;
  /** Every metric name in the file, sorted. */
  names: string[];
  /** Bytes of a crash-truncated tail that were skipped (0 for a clean file). */
  truncatedBytes: number;
}

/** Reads metrics.arrow (a missing file reads as empty); `names` keeps only those metrics. */
export async function readMetrics(dir: string, options: { names?: readonly string[] } = {}): Promise<MetricsData> {
  const { columns, truncatedBytes } = await readMetricsFile(join(resolve(dir), RUN_FILES.metrics));
  const wanted = options.names ? new Set(options.names) : undefined;
  const allNames = new Set<string>();
  const indices = new Map<string, number[]>();
  const keep: number[] = [];
  columns.name.forEach((name, i) => {
    allNames.add(name);
    if (wanted && !wanted.has(name)) return;
    keep.push(i);
    let list = indices.get(name);
    if (!list) indices.set(name, (list = []));
    list.push(i);
  });
  const series: Record<string, MetricSeries> = {};
  for (const [name, idx] of indices) {
    series[name] = {
      step: Int32Array.from(idx, (i) => columns.step[i]!),
      wallTime: Float64Array.from(idx, (i) => columns.wallTime[i]!),
      value: Float64Array.from(idx, (i) => columns.value[i]!),
    };
  }
  const filtered: MetricColumns = wanted
    ? {
        step: Int32Array.from(keep, (i) => columns.step[i]!),
        wallTime: Float64Array.from(keep, (i) => columns.wallTime[i]!),
        name: keep.map((i) => columns.name[i]!),
        value: Float64Array.from(keep, (i) => columns.value[i]!),
      }
    : columns;
  return { columns: filtered, series, names: [...allNames].sort(), truncatedBytes };
}

/** Valid samples of a run (a crash-truncated last line is skipped). */
export async function readSamples(dir: string): Promise<Sample[]> {
  return (await readSamplesFile(join(resolve(dir), RUN_FILES.samples))).samples;
}
