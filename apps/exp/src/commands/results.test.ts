import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRun } from '@sentencelab/runs';
import { describe, expect, test } from 'vitest';
import { STAGE_FILE } from '../pipeline/execute.js';
import { meanSpread, resultsAction } from './results.js';

const machine = { cpu: 'Test CPU', cores: 2, memoryGb: 8, os: 'linux', node: 'v20' };
const git = { sha: '0123456789abcdef0123', dirty: false };

/** A finished stage run, written with the runs package's own writer. */
function stageRun(root: string, stage: string, seed: number, dModel: number, evalResults: Record<string, number>): void {
  const config = { name: 'exp1', seed, runsDir: root, stages: { [stage]: { kind: 'svae', model: { dModel } } } };
  const run = createRun({ root, experiment: 'exp1', runId: `${stage}@d${dModel}s${seed}`, config, seed, backend: 'native', git, machine });
  writeFileSync(join(run.dir, STAGE_FILE), JSON.stringify({ stage, kind: 'svae', hash: 'h', label: '' }));
  run.writeSummary(evalResults);
  run.setStatus('done');
}

describe('exp results', () => {
  test('meanSpread: the mean, and the sample standard deviation over n >= 2 runs', () => {
    expect(meanSpread([2])).toBe('2');
    expect(meanSpread([1, 2, 3])).toBe('2 ± 1 (n=3)');
    expect(meanSpread([])).toBe('');
  });

  test('one table per stage, a column per sweep point, seeds pooled; git, machine and configs', async () => {
    const root = mkdtempSync(join(tmpdir(), 'exp-results-'));
    stageRun(root, 'svae', 0, 64, { recon_ppl: 10, recon_token_acc: 0.5 });
    stageRun(root, 'svae', 1, 64, { recon_ppl: 14, recon_token_acc: 0.7 });
    stageRun(root, 'svae', 0, 128, { recon_ppl: 5, recon_token_acc: 0.9 });
    const out = join(root, 'exp1.md');
    expect(await resultsAction('exp1', { runsDir: root, out })).toBe(out);
    const md = readFileSync(out, 'utf8');
    expect(md).toContain('- git: 0123456789ab');
    expect(md).toContain('- machine: Test CPU, 2 cores');
    expect(md).toContain('- seeds: 0, 1');
    expect(md).toContain('| result | model.dModel=64 | model.dModel=128 |');
    expect(md).toContain('| recon_ppl | 12 ± 2.828 (n=2) | 5 |');
    expect(md).toContain('| recon_token_acc | 0.6000 ± 0.1414 (n=2) | 0.9000 |');
    expect(md.match(/<summary>resolved config<\/summary>/g)).toHaveLength(3);
    await expect(resultsAction('nope', { runsDir: root, out })).rejects.toThrow(/no finished run of experiment "nope" .* \(experiments there: exp1\)/);
  });
});
