import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { MetricsPayload, SamplesPayload, StaticData } from '../shared/types.js';
import { buildAssets, staticPage } from './page.js';
import { RunsStore } from './store.js';

/**
 * Writes `<outDir>/index.html`: one self-contained file with the app, every run's summary,
 * metrics and samples. Opens from disk (file://) with no server.
 */
export async function exportStatic(runsDir: string, outDir: string): Promise<{ file: string; runs: number; bytes: number }> {
  const store = new RunsStore(runsDir);
  const runs = await store.runs();
  const metrics: Record<string, MetricsPayload> = {};
  const samples: Record<string, SamplesPayload> = {};
  for (const row of runs.runs) {
    if (!row.ok) continue;
    const m = await store.metrics(row.id);
    if (m) metrics[row.id] = m;
    const s = await store.samples(row.id);
    if (s && s.samples.length > 0) samples[row.id] = s;
  }
  const data: StaticData = { runs, metrics, samples };
  const html = staticPage(await buildAssets(), data);
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'index.html');
  writeFileSync(file, html);
  return { file, runs: runs.runs.length, bytes: Buffer.byteLength(html) };
}
