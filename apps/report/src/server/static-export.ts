import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '@sentencelab/fs-atomic';
import { join, resolve } from 'node:path';
import type { EmbeddingsPayload, MetricsPayload, RunRow, SamplesPayload, StaticData } from '../shared/types.js';
import { buildAssets, staticPage } from './page.js';
import { relativeTo, RunsStore } from './store.js';

/**
 * Writes `<outDir>/index.html`: one self-contained file with the app, every run's summary,
 * metrics, samples and embeddings (an unreadable run is an error row). Opens from disk (file://) with no server.
 */
export async function exportStatic(runsDir: string, outDir: string): Promise<{ file: string; runs: number; bytes: number }> {
  const store = new RunsStore(runsDir);
  const runs = await store.runs();
  const metrics: Record<string, MetricsPayload> = {};
  const samples: Record<string, SamplesPayload> = {};
  const embeddings: Record<string, EmbeddingsPayload> = {};
  // One unreadable run (corrupt metrics.arrow or samples.jsonl) becomes an error row, as in
  // the live app; the others are exported.
  const rows = await Promise.all(
    runs.runs.map(async (row): Promise<RunRow> => {
      if (!row.ok) return row;
      try {
        const m = await store.metrics(row.id);
        const s = await store.samples(row.id);
        if (m) metrics[row.id] = m;
        if (s && s.samples.length > 0) samples[row.id] = s;
        const e = row.hasEmbeddings ? await store.embeddings(row.id) : undefined;
        if (e?.embeddings) embeddings[row.id] = e;
        return row;
      } catch (error) {
        delete metrics[row.id];
        delete samples[row.id];
        delete embeddings[row.id];
        return { id: row.id, experiment: row.experiment, runId: row.runId, ok: false, error: relativeTo(store.root, (error as Error).message) };
      }
    }),
  );
  const data: StaticData = { runs: { ...runs, runs: rows }, metrics, samples, embeddings };
  const html = staticPage(await buildAssets(), data);
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'index.html');
  writeFileAtomic(file, html);
  return { file, runs: runs.runs.length, bytes: Buffer.byteLength(html) };
}
