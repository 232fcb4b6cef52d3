import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRun } from '@sentencelab/runs';
import { afterAll, describe, expect, it } from 'vitest';
import { RunsStore } from './store.js';

const root = mkdtempSync(join(tmpdir(), 'report-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('RunsStore statuses', () => {
  it('shows a run that says running but whose lock holder is gone as crashed, also after it was listed as running', async () => {
    const opts = { root, experiment: 'x', config: {}, seed: 1, backend: 'cpu', git: { sha: null, dirty: false } };
    const live = createRun({ ...opts, runId: 'live' });
    const dead = createRun({ ...opts, runId: 'dead' });
    const store = new RunsStore(root);
    const statuses = async () => Object.fromEntries((await store.runs()).runs.map((r) => [r.id, r.status]));
    expect(await statuses()).toEqual({ 'x/dead': 'running', 'x/live': 'running' });
    // The process "dies": its lock goes away while meta.json still says running.
    dead.close();
    expect(await statuses()).toEqual({ 'x/dead': 'crashed', 'x/live': 'running' });
    live.setStatus('done');
    expect(await statuses()).toEqual({ 'x/dead': 'crashed', 'x/live': 'done' });
  });
});
