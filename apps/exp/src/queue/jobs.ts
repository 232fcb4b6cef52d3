/**
 * What travels through the queue. One BullMQ queue holds every sweep; a job is one of
 * - `point`: one sweep point's pipeline (its resolved config; the stages it shares with other
 *   points are already in the cache when it runs),
 * - `shared`: the stages several points share (a tokenizer, a SentenceVAE), computed once,
 * - `release`: the parent of a `shared` job in a BullMQ flow; it runs once its child is done
 *   and enqueues the points.
 * Job data never holds the queue URL or its password. The queue's names in Redis, the sweep
 * record and point states live in `@sentencelab/runs/queue` (the report reads them too).
 */
import { randomBytes } from 'node:crypto';
import type { PipelineConfig } from '../stages/types.js';

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

/** `sw-<yyyymmdd-hhmmss>-<4 hex>`: sortable by creation time, unique enough across enqueuers. */
export function newSweepId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `sw-${t}-${randomBytes(2).toString('hex')}`;
}

export const pointJobId = (sweep: string, index: number): string => `${sweep}.p${index}`;
