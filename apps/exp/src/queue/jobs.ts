/**
 * What travels through the queue. One BullMQ queue holds every sweep; a job is one of
 * - `point`: one sweep point's pipeline (its resolved config; the stages it shares with other
 *   points are already in the cache when it runs),
 * - `shared`: the stages several points share (a tokenizer, a SentenceVAE), computed once,
 * - `release`: the parent of a `shared` job in a BullMQ flow; it runs once its child is done
 *   and enqueues the points.
 * Job data never holds the queue URL or its password.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { PipelineConfig } from '../stages/types.js';
import { redisOptions, type QueueUrl } from './connection.js';

export const QUEUE_NAME = 'sentencelab';
/** Redis hash: sweep id -> SweepRecord (JSON). */
export const SWEEPS_KEY = 'sentencelab:sweeps';
/** Redis key set when a sweep is cancelled; workers poll it and stop that sweep's running points. */
export const cancelKey = (sweep: string): string => `sentencelab:cancel:${sweep}`;

export interface PointJob {
  type: 'point';
  sweep: string;
  /** Sweep label (`lr=0.001`), '' for a single point. */
  label: string;
  overrides: string[];
  /** The config file the sweep came from (messages only: `config` is already resolved). */
  file: string;
  config: PipelineConfig;
  cacheDir: string;
  /** Training stage -> run folder, recorded by the worker as soon as it exists (a retry resumes it). */
  runs?: Record<string, string>;
}

export interface SharedJob {
  type: 'shared';
  sweep: string;
  file: string;
  cacheDir: string;
  /** One trimmed pipeline per shared stage (that stage and what it needs), in dependency order. */
  items: { stage: string; config: PipelineConfig }[];
  /** `<item index>/<training stage>` -> run folder, recorded by the worker (a retry resumes it). */
  runs?: Record<string, string>;
}

export interface ReleaseJob {
  type: 'release';
  sweep: string;
  points: PointJob[];
  options: PointJobOptions;
}

export type AnyJob = PointJob | SharedJob | ReleaseJob;

export interface PointJobOptions {
  /** Tries per point before it is marked failed (deterministic errors fail on the first). */
  attempts: number;
  /** First retry delay in ms, doubled on each further retry. */
  backoffMs: number;
}

export interface SweepRecord {
  id: string;
  experiment: string;
  file: string;
  createdAt: string;
  /** Job ids of the points, in sweep order, with their labels. */
  points: { id: string; label: string }[];
  /** Job ids of the shared-stage job and its release parent, when the sweep has shared stages. */
  shared?: { id: string; releaseId: string; stages: string[] };
}

/** `sw-<yyyymmdd-hhmmss>-<4 hex>`: sortable by creation time, unique enough across enqueuers. */
export function newSweepId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `sw-${t}-${randomBytes(2).toString('hex')}`;
}

export const pointJobId = (sweep: string, index: number): string => `${sweep}.p${index}`;

export function openQueue(q: QueueUrl): Queue<AnyJob> {
  const queue = new Queue<AnyJob>(QUEUE_NAME, { connection: redisOptions(q) });
  queue.on('error', () => {});
  return queue;
}
