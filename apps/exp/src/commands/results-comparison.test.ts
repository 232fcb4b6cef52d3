import type { RunInfoOk } from '@sentencelab/runs';
import { describe, expect, test } from 'vitest';
import type { StageResults } from '../results/points.js';
import { comparisonTable } from './results.js';

/** A finished run as `listRuns` gives it, as far as the comparison table reads it. */
function run(seed: number, evalFigures: Record<string, number | string>): RunInfoOk {
  return { meta: { seed }, config: { seed }, summary: { eval: evalFigures, metrics: {} } } as unknown as RunInfoOk;
}

function stage(name: string, kind: string, runs: RunInfoOk[]): StageResults {
  return { stage: name, kind, points: [{ stage: name, kind, label: '', values: {}, runs }] };
}

const diff = (seed: number, value: number, base: string) =>
  run(seed, { energy_score_diff: value, energy_score_diff_ci_low: value - 0.05, energy_score_diff_ci_high: value + 0.05, energy_score_diff_baseline: base });

describe('comparisonTable (exp results, "Against the baseline")', () => {
  test('one baseline: named in the heading', () => {
    const table = comparisonTable([stage('energy-draws', 'lcm-energy', [diff(0, 0.2, 'energy'), diff(1, 0.3, 'energy')]), stage('mse', 'lcm-mse', [diff(0, 1, 'energy'), diff(1, 1.2, 'energy')])]);
    expect(table.split('\n')[0]).toBe('| model | energy_score_diff (- energy) |');
    expect(table).not.toContain('| (- energy)');
  });

  test('heads paired with baselines of their own (headBaselines): each cell names its own', () => {
    const table = comparisonTable([stage('energy-draws', 'lcm-energy', [diff(0, 0.2, 'energy'), diff(1, 0.3, 'energy')]), stage('one-tower-draws', 'lcm-diffusion', [diff(0, -0.2, 'one-tower'), diff(1, -0.3, 'one-tower')])]);
    const lines = table.split('\n');
    expect(lines[0]).toBe("| model | energy_score_diff (- each one's baseline, named beside it) |");
    expect(lines[2]).toMatch(/^\| energy-draws \| \(- energy\) 0\.25\d* \[/);
    expect(lines[3]).toMatch(/^\| one-tower-draws \| \(- one-tower\) -0\.25\d* \[/);
  });
});
