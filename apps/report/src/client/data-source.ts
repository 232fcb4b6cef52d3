import type { EmbeddingsPayload, MetricsPayload, RunsPayload, SamplesPayload, StaticData } from '../shared/types.js';

/** Where the client's data comes from: the report server, or the data embedded by `--static`. */
export interface DataSource {
  live: boolean;
  runs(): Promise<RunsPayload>;
  metrics(run: string): Promise<MetricsPayload>;
  samples(run: string): Promise<SamplesPayload>;
  embeddings(run: string): Promise<EmbeddingsPayload>;
}

async function getJson<T>(url: string): Promise<T> {
  // The server answers with Cache-Control: no-store, so every poll sees fresh data.
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export function httpSource(): DataSource {
  return {
    live: true,
    runs: () => getJson<RunsPayload>('/api/runs'),
    metrics: (run) => getJson<MetricsPayload>(`/api/metrics?run=${encodeURIComponent(run)}`),
    samples: (run) => getJson<SamplesPayload>(`/api/samples?run=${encodeURIComponent(run)}`),
    embeddings: (run) => getJson<EmbeddingsPayload>(`/api/embeddings?run=${encodeURIComponent(run)}`),
  };
}

export function staticSource(data: StaticData): DataSource {
  return {
    live: false,
    runs: () => Promise.resolve(data.runs),
    metrics: (run) => Promise.resolve(data.metrics[run] ?? { run, series: {} }),
    samples: (run) => Promise.resolve(data.samples[run] ?? { run, samples: [] }),
    embeddings: (run) => Promise.resolve(data.embeddings?.[run] ?? { run, embeddings: null }),
  };
}

/** The static export embeds its data in `<script type="application/json" id="sentencelab-data">`. */
export function detectSource(): DataSource {
  const embedded = document.getElementById('sentencelab-data');
  return embedded ? staticSource(JSON.parse(embedded.textContent ?? '{}') as StaticData) : httpSource();
}
