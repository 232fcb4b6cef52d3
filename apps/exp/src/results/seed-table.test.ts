import type { RunInfoOk } from '@sentencelab/runs';
import { describe, expect, test } from 'vitest';
import type { StageResults } from './points.js';
import { seedTables } from './seed-table.js';

/** A finished run as `listRuns` gives it, as far as the seed tables read it. */
function run(seed: number, evalFigures: Record<string, number>): RunInfoOk {
  return { meta: { seed }, config: { seed }, summary: { eval: evalFigures, metrics: {} } } as unknown as RunInfoOk;
}

function stage(name: string, kind: string, runs: RunInfoOk[]): StageResults {
  return { stage: name, kind, points: [{ stage: name, kind, label: '', values: {}, runs }] };
}

describe('seedTables', () => {
  test('a row per seed and a column per model that has the figure, "-" for a seed a model lacks, mean ± sd last', () => {
    const stages = [
      stage('sllm-h1', 'sllm', [run(0, { ppl: 103 }), run(1, { ppl: 112.1 }), run(2, { ppl: 142.5 })]),
      stage('sllm-vae', 'sllm', [run(0, { ppl: 103.3 }), run(2, { ppl: 109.3 })]),
      stage('svae-h1', 'svae', [run(0, { recon_ppl: 40.8 })]),
    ];
    const lines = seedTables(stages);
    // ppl: two models with two or more seeds; recon_ppl: one seed only, so no table.
    expect(lines.filter((l) => l.startsWith('`'))).toEqual(['`ppl`: PPL on the shared held-out tokens']);
    const table = lines.find((l) => l.startsWith('| seed'))!;
    expect(table.split('\n')).toEqual([
      '| seed | sllm-h1 | sllm-vae |',
      '| --- | --- | --- |',
      '| 0 | 103 | 103.3 |',
      '| 1 | 112.1 | - |',
      '| 2 | 142.5 | 109.3 |',
      // sample sd of 103, 112.1, 142.5: 20.685; of 103.3, 109.3: 4.243 (Python's statistics.stdev)
      '| mean ± sd | 119.2 ± 20.685 (n=3) | 106.3 ± 4.243 (n=2) |',
    ]);
  });

  test("a paired figure's heading names the baseline the runs stored beside it", () => {
    const paired = (seed: number, ratio: number) => run(seed, { ppl_ratio: ratio, ppl_ratio_baseline: 'sllm-h1' } as unknown as Record<string, number>);
    const lines = seedTables([stage('sllm-vae', 'sllm', [paired(0, 0.9), paired(1, 1.1)])]);
    expect(lines).toContain("`ppl_ratio (/ sllm-h1)`: PPL over the eval baseline's, paired over the same documents");
  });

  test('heads paired with baselines of their own (headBaselines): each column names its own', () => {
    const diff = (seed: number, value: number, base: string) => run(seed, { energy_score_diff: value, energy_score_diff_baseline: base } as unknown as Record<string, number>);
    const lines = seedTables([stage('energy-draws', 'lcm-energy', [diff(0, 0.1, 'energy'), diff(1, 0.2, 'energy')]), stage('one-tower-draws', 'lcm-diffusion', [diff(0, -0.1, 'one-tower'), diff(1, -0.3, 'one-tower')])]);
    expect(lines.filter((l) => l.startsWith('`'))).toEqual(["`energy_score_diff (- each one's baseline, named beside it)`: concept head: energy score minus the baseline head's, paired over the same targets (below 0: the better distribution)"]);
    expect(lines.find((l) => l.startsWith('| seed'))!.split('\n')[0]).toBe('| seed | energy-draws (- energy) | one-tower-draws (- one-tower) |');
  });

  test('nothing when no figure has two seeds', () => {
    expect(seedTables([stage('lm', 'token-lm', [run(0, { ppl: 90 })])])).toEqual([]);
  });
});
