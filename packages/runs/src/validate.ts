import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isTempFile } from '@sentencelab/fs-atomic';
import { latestCheckpoint } from './checkpoints.js';
import { isLiveLockTemp } from './lock.js';
import { RUN_FILES } from './format.js';
import { readConfig, readMeta, readMetrics, readSummary } from './reader.js';
import { readEmbeddings } from './embeddings.js';
import { readSamplesFile } from './samples.js';

/**
 * Everything wrong with a run folder, one readable line each (empty when the run is valid).
 * A running run without summary.json is fine; a finished (`done`) one is not.
 */
export async function validateRun(dir: string): Promise<string[]> {
  const runDir = resolve(dir);
  const problems: string[] = [];
  const attempt = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  };
  const meta = await attempt(() => readMeta(runDir));
  await attempt(() => readConfig(runDir));
  const summary = await attempt(() => readSummary(runDir));
  if (meta?.status === 'done' && summary === undefined && !problems.some((p) => p.includes(RUN_FILES.summary))) {
    problems.push(`${join(runDir, RUN_FILES.summary)}: missing although the run is done`);
  }
  if (meta?.status === 'failed' && !meta.error) problems.push(`${join(runDir, RUN_FILES.meta)}: status failed without error`);
  const metrics = await attempt(() => readMetrics(runDir));
  if (metrics && metrics.truncatedBytes > 0) {
    problems.push(`${join(runDir, RUN_FILES.metrics)}: ${metrics.truncatedBytes} bytes of a truncated last batch (crash during append)`);
  }
  const samples = await attempt(() => readSamplesFile(join(runDir, RUN_FILES.samples)));
  if (samples) problems.push(...samples.problems);
  await attempt(() => readEmbeddings(runDir));
  await attempt(async () => latestCheckpoint(runDir));
  const entries = await attempt(() => readdir(runDir));
  for (const name of entries ?? []) {
    if (isTempFile(name) && !isLiveLockTemp(runDir, name)) problems.push(`${join(runDir, name)}: leftover temp file of an interrupted write`);
  }
  return problems;
}
