/** What the server (or a static export) hands the browser client. */
import type { Embeddings } from '@sentencelab/runs';

export type Scalar = string | number | boolean | null;

export interface MetricStats {
  count: number;
  last: number;
  lastStep: number;
  min: number;
  max: number;
  /** Absent where the metric has no better side (`direction` none: learning rate, gradient norm, sys/...). */
  best?: number;
  bestStep?: number;
  direction: 'min' | 'max' | 'none';
}

export interface RunRow {
  /** `<experiment>/<run-id>` */
  id: string;
  experiment: string;
  runId: string;
  ok: boolean;
  /** Why the folder could not be read (ok: false only). */
  error?: string;
  /**
   * meta.json status, or `crashed` when it says running and no live process holds the run lock.
   * With `--queue`: a sweep point's live state from the queue wins over a folder that is not
   * done (`queued`: waiting for a worker or for its sweep's shared stages).
   */
  status?: 'running' | 'done' | 'failed' | 'interrupted' | 'crashed' | 'queued' | 'cancelled';
  startedAt?: string;
  endedAt?: string;
  seed?: number;
  backend?: string;
  gitSha?: string | null;
  gitDirty?: boolean;
  /** The error message of a failed run. */
  failure?: string;
  /** meta.json `backendInfo` flattened (the runner puts the pipeline stage and model kind there). */
  info?: Record<string, Scalar>;
  /** Resolved config flattened to dotted keys (arrays as JSON text). */
  config?: Record<string, Scalar>;
  /** Per-metric summary (computed from metrics.arrow while a run has no summary.json). */
  metrics?: Record<string, MetricStats>;
  /** summary.json `eval`, flattened to dotted keys. */
  eval?: Record<string, Scalar>;
  /** Changes whenever metrics.arrow changes (its mtime in ms). */
  metricsVersion?: number;
  /** The sweep point this run belongs to (`pnpm report --queue`). */
  queue?: QueueInfo;
  /** A queued point with no run folder yet: nothing to plot or compare, not selectable. */
  queueOnly?: boolean;
  /** The run folder has embeddings.json (sentence vectors for the embedding view). */
  hasEmbeddings?: boolean;
  /**
   * A fork (meta.json `forkedFrom`): the run whose trained model it took and evaluated again
   * (its id, or the folder's name when it lies outside the runs folder), and that checkpoint's step.
   */
  trainedBy?: { run: string; step: number };
}

/** A sweep point as the queue reports it. */
export interface QueueInfo {
  sweep: string;
  /** The point's sweep label (`seed=1`), '' for a single point. */
  label: string;
  job: string;
  state: 'pending' | 'waiting' | 'active' | 'done' | 'failed' | 'cancelled';
  /** The worker (`host:pid`) that took it last. */
  worker?: string;
  stage?: string;
  step?: number;
  total?: number;
  loss?: number;
  tokensPerS?: number;
  /** One line: `svae 12/40 loss 3.2100 1,234 tok/s on host:pid (cpu)`. */
  detail?: string;
  /** Why it failed (password masked). */
  error?: string;
}

export interface RunsPayload {
  /** Changes whenever any run changes; the client skips re-rendering when it is the same. */
  version: string;
  runs: RunRow[];
  /** With `--queue`: the masked queue URL, and why it could not be read this time, if so. */
  queue?: { url: string; error?: string };
}

export interface SeriesPayload {
  step: number[];
  wallTime: number[];
  /** null where the logged value was NaN or infinite. */
  value: (number | null)[];
}

export interface MetricsPayload {
  run: string;
  series: Record<string, SeriesPayload>;
}

export interface SamplePayload {
  step: number;
  prompt: string;
  output: string;
  model?: string;
}

export interface SamplesPayload {
  run: string;
  samples: SamplePayload[];
}

export interface EmbeddingsPayload {
  run: string;
  /** The run's embeddings.json, null when it has none. */
  embeddings: Embeddings | null;
}

/** Everything a `--static` export embeds. */
export interface StaticData {
  runs: RunsPayload;
  metrics: Record<string, MetricsPayload>;
  samples: Record<string, SamplesPayload>;
  /** Runs with embeddings.json only. */
  embeddings?: Record<string, EmbeddingsPayload>;
}
