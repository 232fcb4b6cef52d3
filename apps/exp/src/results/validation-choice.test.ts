import type { RunInfoOk } from '@sentencelab/runs';
import { describe, expect, test } from 'vitest';
import type { ResultPoint, StageResults } from './points.js';
import { validationChoiceLines } from './validation-choice.js';

function run(seed: number, figures: Record<string, number>): RunInfoOk {
  return { meta: { seed }, config: { seed }, summary: { eval: figures, metrics: {} } } as unknown as RunInfoOk;
}

function point(label: string, runs: RunInfoOk[]): ResultPoint {
  return { stage: 'two-tower', kind: 'lcm-diffusion', label, values: {}, runs };
}

describe('validationChoiceLines', () => {
  test('the lowest validation energy score, the runner-up beside it, and the chosen point\'s test figures', () => {
    const ci = (key: string, v: number, half: number) => ({ [key]: v, [`${key}_ci_low`]: v - half, [`${key}_ci_high`]: v + half });
    const stages: StageResults[] = [
      {
        stage: 'two-tower',
        kind: 'lcm-diffusion',
        points: [
          point('noise=0.6', [run(0, { ...ci('val_energy_score', 2.786, 0.06), ...ci('energy_score', 2.798, 0.07) })]),
          point('noise=1', [run(0, { ...ci('val_energy_score', 2.396, 0.055), ...ci('energy_score', 2.4, 0.062), ...ci('spread_ratio', 0.935, 0.012) })]),
          point('noise=1.4', [run(0, { ...ci('val_energy_score', 2.41, 0.05), ...ci('energy_score', 2.415, 0.056) })]),
        ],
      },
      // One point only, or no validation figure: nothing to choose.
      { stage: 'mse', kind: 'lcm-mse', points: [point('', [run(0, { val_energy_score: 3.3 })])] },
      { stage: 'lm', kind: 'token-lm', points: [point('a=1', [run(0, { ppl: 40 })]), point('a=2', [run(0, { ppl: 41 })])] },
    ];
    expect(validationChoiceLines(stages)).toEqual([
      '- two-tower: lowest val_energy_score of 3 points at two-tower (noise=1): 2.396 [2.341, 2.451]; the runner-up, two-tower (noise=1.4): 2.410 [2.360, 2.460] (their 95% intervals overlap: taken point by point, these validation documents do not resolve the choice). Its test figures, the held-out measurement of the choice: energy score 2.400 [2.338, 2.462], spread / skill 0.9350 [0.9230, 0.9470].',
    ]);
  });

  test('several seeds: the mean over them and its t interval; resolved when the intervals do not overlap', () => {
    const stages: StageResults[] = [
      {
        stage: 'two-tower',
        kind: 'lcm-diffusion',
        points: [point('g=3', [run(0, { val_energy_score: 2.8 }), run(1, { val_energy_score: 2.82 })]), point('g=1', [run(0, { val_energy_score: 2.4 }), run(1, { val_energy_score: 2.42 })])],
      },
    ];
    const [line] = validationChoiceLines(stages);
    expect(line).toMatch(/^- two-tower: lowest val_energy_score of 2 points at two-tower \(g=1\): 2\.41\d* \[[\d.]+, [\d.]+\] \(mean over 2 seeds\); the runner-up, two-tower \(g=3\): 2\.81\d* \[[\d.]+, [\d.]+\]\. It has no test figures\.$/);
  });
});
