/** Messages between a queue worker and the child process that runs its jobs' pipelines. */
import type { PointProgress } from '@sentencelab/runs/queue';
import type { PointJob, SharedJob } from './jobs.js';

export type ChildRequest =
  /** `resume[i]`: the run folder item i (the point's pipeline, or shared item i) continues, if any. */
  | { type: 'run'; jobId: string; data: PointJob | SharedJob; cacheDir: string; resume: (string | undefined)[] }
  /** Checkpoint and stop the running pipeline (cancel, worker shutdown). */
  | { type: 'abort' };

export type ChildReply =
  | { type: 'ready' }
  | { type: 'log'; line: string }
  | { type: 'progress'; progress: Partial<PointProgress> }
  | { type: 'runFolder'; item: number; stage: string; runDir: string }
  | { type: 'done' }
  /**
   * `locked`: the run folder is still held by another process (the runs package's run lock,
   * e.g. a dead worker on another host whose lease has not expired yet): try again later
   * without using up a try.
   */
  | { type: 'failed'; message: string; interrupted: boolean; deterministic: boolean; locked?: boolean };
