/** Messages between a queue worker and the child process that runs its jobs' pipelines. */
import type { PointJob, SharedJob } from './jobs.js';

/** What a worker reports through `job.updateProgress`: read by `exp queue`, `run --queue` and the report. */
export interface PointProgress {
  stage?: string;
  step?: number;
  total?: number;
  loss?: number;
  tokensPerS?: number;
  host: string;
  /** The process running the pipeline. */
  pid: number;
  /** The worker (`host:pid`) holding the job. */
  worker?: string;
  backend?: string;
  device?: string;
  runDir?: string;
  /** ms since the epoch of this report. */
  at: number;
}

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
