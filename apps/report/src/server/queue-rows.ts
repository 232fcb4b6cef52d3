/**
 * `pnpm report --queue URL`: the sweep points of a BullMQ queue (written by `pnpm exp run
 * --queue`) as rows of the runs table. A point whose run folder is listed is that row, with its
 * live state from the queue; a point with no folder yet (waiting, or failed before training) is a
 * row of its own. Nothing here builds a path from queue data: run folders recorded in the jobs
 * are only matched against the listing.
 */
import { relative, resolve, sep } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  checkQueue,
  closeWhenConnected,
  describeProgress,
  hostOf,
  openQueue,
  openRedis,
  scrub,
  sweepRecords,
  sweepStatus,
  type PointStatus,
  type QueueUrl,
  type SweepRecord,
} from '@sentencelab/runs/queue';
import type { QueueInfo, RunRow, RunsPayload } from '../shared/types.js';
import { hash } from './store.js';

/** Sweeps read per poll, newest first: older ones have finished and their runs are folders. */
export const RECENT_SWEEPS = 50;
/** A poll waits at most this long for Redis, then serves the runs folder alone with an error note. */
const READ_TIMEOUT_MS = 3000;

export interface QueuePoint {
  record: SweepRecord;
  status: PointStatus;
}

export class QueueReader {
  private constructor(
    readonly url: QueueUrl,
    private readonly queue: Queue,
    private readonly client: Redis,
  ) {}

  /** Checks the queue within seconds (a message naming the host, password masked) before serving. */
  static async open(url: string): Promise<QueueReader> {
    const q = await checkQueue(url);
    return new QueueReader(q, openQueue(q), openRedis(q));
  }

  /** Every point of the most recent sweeps, in sweep order. */
  async points(): Promise<QueuePoint[]> {
    const records = (await sweepRecords(this.client)).slice(-RECENT_SWEEPS);
    const out: QueuePoint[] = [];
    for (const record of records) {
      const s = await sweepStatus(this.queue, this.client, record);
      for (const status of s.points) out.push({ record, status });
    }
    return out;
  }

  /** `points()`, or the reason it failed within READ_TIMEOUT_MS (password masked). */
  async read(): Promise<{ points: QueuePoint[] } | { error: string }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no reply within ${READ_TIMEOUT_MS / 1000} s`)), READ_TIMEOUT_MS);
      });
      return { points: await Promise.race([this.points(), deadline]) };
    } catch (error) {
      return { error: `cannot read the queue at ${hostOf(this.url)} (${this.url.masked}): ${scrub((error as Error).message, this.url)}` };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await closeWhenConnected(this.queue).catch(() => {});
    this.client.disconnect();
  }
}

function infoOf(p: QueuePoint, url: QueueUrl): QueueInfo {
  const { status } = p;
  const progress = status.progress;
  const info: QueueInfo = { sweep: p.record.id, label: status.label, job: status.id, state: status.state };
  const worker = progress?.worker ?? status.worker;
  if (worker !== undefined) info.worker = worker;
  if (progress?.stage !== undefined) info.stage = progress.stage;
  if (progress?.step !== undefined) info.step = progress.step;
  if (progress?.total !== undefined) info.total = progress.total;
  if (progress?.loss !== undefined) info.loss = progress.loss;
  if (progress?.tokensPerS !== undefined) info.tokensPerS = progress.tokensPerS;
  if (status.state === 'active' && progress) info.detail = describeProgress(progress);
  if (status.error !== undefined) info.error = scrub(status.error, url);
  return info;
}

const LIVE_STATUS: Record<QueueInfo['state'], RunRow['status']> = {
  pending: 'queued',
  waiting: 'queued',
  active: 'running',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** The listed run id of a run folder recorded in a job, or undefined when it is not in this runs folder. */
function listedId(root: string, dir: string, listed: Map<string, RunRow>): string | undefined {
  const rel = relative(root, resolve(dir));
  const parts = rel.split(sep);
  if (parts.length !== 2 || parts.includes('..')) return undefined;
  const id = parts.join('/');
  return listed.has(id) ? id : undefined;
}

/**
 * The runs payload with the queue's points: folder rows of a point get its queue info (and its
 * live state unless the folder is done); points with no listed folder that have not finished
 * well become rows of their own (done points without a folder here ran into another runs folder).
 */
export function mergeQueue(payload: RunsPayload, root: string, url: QueueUrl, read: { points: QueuePoint[] } | { error: string }): RunsPayload {
  const queue: NonNullable<RunsPayload['queue']> = { url: url.masked };
  if ('error' in read) return { ...payload, version: `${payload.version}.${hash(read.error)}`, queue: { ...queue, error: read.error } };
  const listed = new Map(payload.runs.map((r) => [r.id, r]));
  const changed = new Map<string, RunRow>();
  const extra: RunRow[] = [];
  for (const p of read.points) {
    const info = infoOf(p, url);
    const dirs = [...Object.values(p.status.runs ?? {}), ...(p.status.progress?.runDir ? [p.status.progress.runDir] : [])];
    const ids = [...new Set(dirs.map((d) => listedId(root, d, listed)).filter((id): id is string => id !== undefined))];
    for (const id of ids) {
      const row = changed.get(id) ?? { ...listed.get(id)! };
      row.queue = info;
      if (row.ok && row.status !== 'done') row.status = LIVE_STATUS[info.state];
      if (info.error !== undefined && row.ok && row.status === 'failed') row.failure = info.error;
      changed.set(id, row);
    }
    if (ids.length > 0 || info.state === 'done') continue;
    extra.push({
      id: `${p.record.experiment}/${p.record.id}${info.label ? ` ${info.label}` : ` ${info.job}`}`,
      experiment: p.record.experiment,
      runId: `${p.record.id}${info.label ? ` ${info.label}` : ''}`,
      ok: true,
      status: LIVE_STATUS[info.state],
      startedAt: new Date(p.status.enqueuedAt ?? Date.parse(p.record.createdAt)).toISOString(),
      ...(info.error !== undefined ? { failure: info.error } : {}),
      queue: info,
      queueOnly: true,
    });
  }
  const runs = [...payload.runs.map((r) => changed.get(r.id) ?? r), ...extra];
  return { version: `${payload.version}.${hash(JSON.stringify(read.points.map((p) => infoOf(p, url))))}`, runs, queue };
}
