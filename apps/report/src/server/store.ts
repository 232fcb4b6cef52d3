import { existsSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  LOCK_FILE,
  RUN_FILES,
  listRunFolders,
  readEmbeddings,
  readMetrics,
  readRunInfo,
  metricHasBetterSide,
  readSamples,
  runDisplayStatus,
  summarizeMetrics,
  type MetricSummary,
  type RunFolder,
  type RunInfo,
} from '@sentencelab/runs';
import { flatten } from '../shared/flatten.js';
import type { EmbeddingsPayload, MetricStats, MetricsPayload, RunRow, RunsPayload, SamplesPayload } from '../shared/types.js';

interface Cached {
  stamp: string;
  row: RunRow;
}

/**
 * The runs folder as the browser sees it. Every read goes through @sentencelab/runs; a run is
 * re-read only when the mtime of one of its files changed, so polling 1,000 runs is cheap.
 * Run ids sent by the browser are looked up in the listing, never joined to a path.
 */
export class RunsStore {
  readonly root: string;
  private cache = new Map<string, Cached>();
  private folders = new Map<string, RunFolder>();
  private serialized: { version: string; json: string } | undefined;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async runs(): Promise<RunsPayload> {
    const folders = await listRunFolders(this.root);
    this.folders = new Map(folders.map((f) => [f.id, f]));
    const rows: RunRow[] = [];
    for (const folder of folders) rows.push(await this.row(folder));
    for (const id of this.cache.keys()) if (!this.folders.has(id)) this.cache.delete(id);
    const version = hash(folders.map((f) => this.cache.get(f.id)?.stamp ?? '').join('|') + `#${folders.length}`);
    return { version, runs: rows };
  }

  /** `runs()` as JSON text, serialised once per version (polls mostly find nothing changed). */
  async runsJson(): Promise<string> {
    const payload = await this.runs();
    if (this.serialized?.version !== payload.version) this.serialized = { version: payload.version, json: JSON.stringify(payload) };
    return this.serialized.json;
  }

  private async row(folder: RunFolder): Promise<RunRow> {
    const stamp = stampOf(folder.dir);
    const cached = this.cache.get(folder.id);
    // A SIGKILLed holder leaves its lock file unchanged: a running row is checked every time.
    if (cached && cached.stamp === stamp && !(cached.row.ok && cached.row.status === 'running' && runDisplayStatus(folder.dir, 'running') === 'crashed')) return cached.row;
    const info = await readRunInfo(folder, { config: true });
    const row = await toRow(info, this.root);
    this.cache.set(folder.id, { stamp, row });
    return row;
  }

  /** The folder of a listed run, or undefined (unknown ids are never turned into paths). */
  async folder(id: string): Promise<RunFolder | undefined> {
    if (!this.folders.has(id)) await this.runs();
    return this.folders.get(id);
  }

  async metrics(id: string): Promise<MetricsPayload | undefined> {
    const folder = await this.folder(id);
    if (!folder) return undefined;
    const data = await readMetrics(folder.dir);
    const series: MetricsPayload['series'] = {};
    for (const [name, s] of Object.entries(data.series)) {
      series[name] = {
        step: Array.from(s.step),
        wallTime: Array.from(s.wallTime, (t) => Math.round(t * 1000) / 1000),
        value: Array.from(s.value, (v) => (Number.isFinite(v) ? v : null)),
      };
    }
    return { run: id, series };
  }

  /** The listed run's embeddings.json (null when it has none); undefined for an unknown id. */
  async embeddings(id: string): Promise<EmbeddingsPayload | undefined> {
    const folder = await this.folder(id);
    if (!folder) return undefined;
    return { run: id, embeddings: (await readEmbeddings(folder.dir)) ?? null };
  }

  async samples(id: string): Promise<SamplesPayload | undefined> {
    const folder = await this.folder(id);
    if (!folder) return undefined;
    return { run: id, samples: await readSamples(folder.dir) };
  }
}

// run.lock: its refreshes and removal change a running row (running, crashed).
const STAMPED = [RUN_FILES.meta, RUN_FILES.summary, RUN_FILES.config, RUN_FILES.metrics, RUN_FILES.embeddings, LOCK_FILE];

/** mtimes and sizes of the files a row is made of (sync: a stat is microseconds, 4,000 of them per poll). */
function stampOf(dir: string): string {
  return STAMPED.map((f) => {
    const st = statSync(join(dir, f), { throwIfNoEntry: false });
    return st ? `${st.mtimeMs}:${st.size}` : '-';
  }).join(',');
}

/** Error messages name files relative to the runs folder (no local paths in shared exports). */
export function relativeTo(root: string, message: string): string {
  return message.split(`${root}${sep}`).join('');
}

/** summary.json's per-metric figures as the client shows them: no `best` where a metric has no better side (learning rate, gradient norm, sys/...). */
function clientStats(metrics: Record<string, MetricSummary>): Record<string, MetricStats> {
  return Object.fromEntries(
    Object.entries(metrics).map(([name, s]) => {
      if (metricHasBetterSide(name)) return [name, s];
      const { best: _best, bestStep: _bestStep, ...rest } = s;
      return [name, { ...rest, direction: 'none' }];
    }),
  );
}

async function toRow(info: RunInfo, root: string): Promise<RunRow> {
  const base = { id: info.id, experiment: info.experiment, runId: info.runId };
  if (!info.ok) return { ...base, ok: false, error: relativeTo(root, info.error) };
  const { meta, summary } = info;
  let metrics = summary?.metrics;
  if (!metrics) {
    try {
      metrics = summarizeMetrics((await readMetrics(info.dir)).columns);
    } catch (error) {
      return { ...base, ok: false, error: relativeTo(root, (error as Error).message) };
    }
  }
  const row: RunRow = {
    ...base,
    ok: true,
    status: info.status,
    startedAt: meta.startedAt,
    seed: meta.seed,
    backend: meta.backend,
    gitSha: meta.git.sha,
    gitDirty: meta.git.dirty,
    info: flatten(meta.backendInfo ?? {}),
    config: flatten(info.config ?? {}),
    metrics: clientStats(metrics),
    eval: flatten(summary?.eval ?? {}),
  };
  if (meta.endedAt) row.endedAt = meta.endedAt;
  if (meta.error) row.failure = meta.error.message;
  if (info.metricsMtimeMs !== undefined) row.metricsVersion = info.metricsMtimeMs;
  if (existsSync(join(info.dir, RUN_FILES.embeddings))) row.hasEmbeddings = true;
  if (meta.forkedFrom) row.trainedBy = { run: runIdUnder(root, meta.forkedFrom.run), step: meta.forkedFrom.step };
  return row;
}

/** A run folder's id (`<experiment>/<runId>`) when it lies in the runs folder, else its name: no local paths in what the page shows. */
function runIdUnder(root: string, dir: string): string {
  const rel = relative(root, dir);
  return rel.startsWith('..') || isAbsolute(rel) ? basename(dir) : rel.split(sep).join('/');
}

/** FNV-1a, enough to tell "something changed" apart. */
export function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}
