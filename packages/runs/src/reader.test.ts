import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listRuns } from './reader.js';
import { validateRun } from './validate.js';
import { createRun } from './writer.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'runs-reader-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const machine = { cpu: 'c', cores: 1, memoryGb: 1, os: 'linux', node: 'v20' };
const make = (experiment: string, runId: string) =>
  createRun({ root, experiment, runId, config: { lr: 0.1 }, seed: 1, backend: 'cpu', git: { sha: null, dirty: false }, machine });

describe('listRuns', () => {
  it('returns good runs and one error entry per bad folder, never throwing', async () => {
    const good = make('exp', 'a-good');
    good.logMetrics(1, { loss: 1 });
    good.writeSummary({ ppl: 3 });
    good.setStatus('done');
    const corrupt = make('exp', 'b-corrupt');
    writeFileSync(join(corrupt.dir, 'meta.json'), '{"formatVersion": 1, "status": "runn');
    mkdirSync(join(root, 'exp', 'c-half-written'));
    const old = make('exp', 'd-old');
    const oldMeta = JSON.parse(readFileSync(join(old.dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
    delete oldMeta.formatVersion;
    writeFileSync(join(old.dir, 'meta.json'), JSON.stringify(oldMeta));
    const bad = make('other', 'e-bad-summary');
    writeFileSync(join(bad.dir, 'summary.json'), JSON.stringify({ formatVersion: 1, updatedAt: 'x', metrics: {}, eval: {} }));
    writeFileSync(join(root, 'stray-file.txt'), 'not a run');

    const runs = await listRuns(root, { config: true });
    expect(runs.map((r) => r.id)).toEqual(['exp/a-good', 'exp/b-corrupt', 'exp/c-half-written', 'exp/d-old', 'other/e-bad-summary']);
    const [a, b, c, d, e] = runs;
    expect(a).toMatchObject({ ok: true, config: { lr: 0.1 }, summary: { eval: { ppl: 3 } }, meta: { status: 'done' } });
    expect(b).toMatchObject({ ok: false });
    expect(b!.ok ? '' : b!.error).toMatch(/b-corrupt\/meta.json: invalid JSON/);
    expect(c!.ok ? '' : c!.error).toMatch(/c-half-written\/meta.json: missing \(half-written run/);
    expect(d!.ok ? '' : d!.error).toMatch(/older or unknown format/);
    expect(e!.ok ? '' : e!.error).toMatch(/summary.json: updatedAt: Invalid ISO datetime/);
  });

  it('names a newer format instead of half-reading it', async () => {
    const run = make('exp', 'future');
    const meta = JSON.parse(readFileSync(join(run.dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(run.dir, 'meta.json'), JSON.stringify({ ...meta, formatVersion: 2 }));
    const [info] = await listRuns(root);
    expect(info!.ok ? '' : info!.error).toMatch(/meta.json: formatVersion 2 is newer than this reader \(1\)/);
  });

  it('follows symbolic links to run and experiment folders (runs gathered from other runs folders); skips dangling ones', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'runs-elsewhere-'));
    try {
      const other = createRun({ root: elsewhere, experiment: 'exp', runId: 'b-linked', config: { lr: 0.2 }, seed: 2, backend: 'cpu', git: { sha: null, dirty: false }, machine });
      other.setStatus('done');
      createRun({ root: elsewhere, experiment: 'whole', runId: 'c', config: {}, seed: 3, backend: 'cpu', git: { sha: null, dirty: false }, machine }).setStatus('done');
      make('exp', 'a-here').setStatus('done');
      symlinkSync(other.dir, join(root, 'exp', 'b-linked'));
      symlinkSync(join(elsewhere, 'whole'), join(root, 'whole'));
      symlinkSync(join(elsewhere, 'gone'), join(root, 'exp', 'c-dangling'));
      const runs = await listRuns(root, { config: true });
      expect(runs.map((r) => [r.id, r.ok])).toEqual([['exp/a-here', true], ['exp/b-linked', true], ['whole/c', true]]);
      expect(runs[1]).toMatchObject({ ok: true, config: { lr: 0.2 }, meta: { seed: 2, status: 'done' } });
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('reads a missing root as no runs', async () => {
    expect(await listRuns(join(root, 'nope'))).toEqual([]);
  });
});

describe('validateRun', () => {
  it('reports a truncated metrics tail, a bad sample line and a done run without summary', async () => {
    const run = make('exp', 'r');
    run.logMetrics(1, { loss: 1 });
    run.flush();
    run.logMetrics(2, { loss: 0.5 });
    run.flush();
    run.setStatus('done');
    truncateSync(join(run.dir, 'metrics.arrow'), statSync(join(run.dir, 'metrics.arrow')).size - 3);
    writeFileSync(join(run.dir, 'samples.jsonl'), '{"step":1,"prompt":"p","output":"o"}\n{"step":"x"}\n{"step":2,"pro');
    const problems = await validateRun(run.dir);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/summary.json: missing although the run is done/);
    expect(problems[1]).toMatch(/metrics.arrow: \d+ bytes of a truncated last batch/);
    expect(problems[2]).toMatch(/samples.jsonl:2: step/);
  });

  it('reports a killed writer\'s temp file, not the lock temp file of a process taking the lock right now', async () => {
    const run = make('exp', 'tmp');
    run.close();
    writeFileSync(join(run.dir, '.meta.json.999.ab12cd34.tmp'), '{');
    writeFileSync(join(run.dir, '.run.lock.999.ab12cd34.tmp'), '{"pid":999}');
    const problems = await validateRun(run.dir);
    expect(problems).toEqual([`${join(run.dir, '.meta.json.999.ab12cd34.tmp')}: leftover temp file of an interrupted write`]);
  });
});
