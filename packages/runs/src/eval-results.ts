/**
 * Adds evaluation results to a finished run's summary.json (e.g. the figures a later eval or
 * bench stage measured for that run's model), keeping its metrics and status.
 */
import { join } from 'node:path';
import { writeJsonAtomic } from '@sentencelab/fs-atomic';
import { RUN_FILES, type EvalValue } from './format.js';
import { readSummary } from './reader.js';

/** Merges `results` into `eval` of `<dir>/summary.json`; false (nothing written) when the run has no summary yet. */
export async function mergeEvalResults(dir: string, results: Record<string, EvalValue>): Promise<boolean> {
  const summary = await readSummary(dir);
  if (!summary) return false;
  writeJsonAtomic(join(dir, RUN_FILES.summary), { ...summary, updatedAt: new Date().toISOString(), eval: { ...summary.eval, ...results } });
  return true;
}
