import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeEvalResults } from './eval-results.js';
import { readSummary } from './reader.js';
import { createRun } from './writer.js';

describe('mergeEvalResults', () => {
  it('adds results to eval, keeping the earlier ones and the metrics', async () => {
    const root = mkdtempSync(join(tmpdir(), 'runs-eval-'));
    const run = createRun({ root, experiment: 'e', runId: 'r', config: {}, seed: 0, backend: 'cpu', flushIntervalMs: 0 });
    run.logMetrics(1, { loss: 2 });
    run.flush();
    run.writeSummary({ ppl: 10 });
    expect(await mergeEvalResults(run.dir, { tokens_per_s: 5, ppl: 9 })).toBe(true);
    const s = await readSummary(run.dir);
    expect(s?.eval).toEqual({ ppl: 9, tokens_per_s: 5 });
    expect(s?.metrics['loss']?.last).toBe(2);
  });

  it('writes nothing for a run without a summary', async () => {
    const root = mkdtempSync(join(tmpdir(), 'runs-eval-'));
    const run = createRun({ root, experiment: 'e', runId: 'r', config: {}, seed: 0, backend: 'cpu', flushIntervalMs: 0 });
    expect(await mergeEvalResults(run.dir, { ppl: 1 })).toBe(false);
    expect(await readSummary(run.dir)).toBeUndefined();
  });
});
