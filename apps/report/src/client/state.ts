import type { ExportFormat } from '../shared/table-export.js';
import type { Brush } from '../shared/parallel.js';
import type { EmbeddingsPayload, MetricsPayload, RunRow, SamplesPayload } from '../shared/types.js';
import type { DataSource } from './data-source.js';

export type Tab = 'curves' | 'diff' | 'summary' | 'paper' | 'samples' | 'parallel' | 'system' | 'embeddings' | 'playground';

export interface CurveOptions {
  metric: string;
  x: 'step' | 'wallTime';
  log: boolean;
  /** Debiased EMA weight in [0, 0.99]; 0 draws the raw curve only. */
  smoothing: number;
  groupSeeds: boolean;
  band: 'minmax' | 'std';
}

export interface AppState {
  runs: RunRow[];
  version: string;
  updatedAt?: Date;
  loadError?: string;
  /** Why the sweep queue could not be read on the last poll (`--queue`). */
  queueError?: string | undefined;
  selected: Set<string>;
  filter: string;
  sort: { field: string; desc: boolean };
  groupBy: string;
  tab: Tab;
  diffAll: boolean;
  curve: CurveOptions;
  pivot: { rows: string; cols: string; cell: string; format: ExportFormat; output: string };
  paperBaseline: string;
  /** Parallel coordinates: the metric fields drawn as axes (null: a default from the runs). */
  parallelMetrics: string[] | null;
  /** Axes brushed in parallel coordinates: the runs table shows only the runs inside. */
  brush: Brush;
  /** Embedding view: the run shown ('' = the first selected run with embeddings). */
  embeddingRun: string;
}

export function initialState(): AppState {
  return {
    runs: [],
    version: '',
    selected: new Set(),
    filter: '',
    sort: { field: 'name', desc: false },
    groupBy: '',
    tab: 'curves',
    diffAll: false,
    curve: { metric: '', x: 'step', log: false, smoothing: 0.6, groupSeeds: false, band: 'minmax' },
    pivot: { rows: '', cols: '', cell: '', format: 'markdown', output: '' },
    paperBaseline: '',
    parallelMetrics: null,
    brush: {},
    embeddingRun: '',
  };
}

/** Fetched metrics, samples and embeddings, refetched when a run's metrics file changes. */
export class RunDataCache {
  private metrics = new Map<string, { version: number | undefined; data: Promise<MetricsPayload> }>();
  private samples = new Map<string, { version: number | undefined; data: Promise<SamplesPayload> }>();
  private embeddings = new Map<string, { version: number | undefined; data: Promise<EmbeddingsPayload> }>();

  constructor(private readonly source: DataSource) {}

  metricsOf(row: RunRow): Promise<MetricsPayload> {
    const hit = this.metrics.get(row.id);
    if (hit && hit.version === row.metricsVersion) return hit.data;
    const data = this.source.metrics(row.id);
    this.metrics.set(row.id, { version: row.metricsVersion, data });
    data.catch(() => this.metrics.delete(row.id));
    return data;
  }

  embeddingsOf(row: RunRow): Promise<EmbeddingsPayload> {
    const hit = this.embeddings.get(row.id);
    if (hit && hit.version === row.metricsVersion) return hit.data;
    const data = this.source.embeddings(row.id);
    this.embeddings.set(row.id, { version: row.metricsVersion, data });
    data.catch(() => this.embeddings.delete(row.id));
    return data;
  }

  samplesOf(row: RunRow): Promise<SamplesPayload> {
    const hit = this.samples.get(row.id);
    if (hit && hit.version === row.metricsVersion) return hit.data;
    const data = this.source.samples(row.id);
    this.samples.set(row.id, { version: row.metricsVersion, data });
    data.catch(() => this.samples.delete(row.id));
    return data;
  }
}
