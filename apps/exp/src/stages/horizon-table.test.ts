import { describe, expect, it } from 'vitest';
import { horizonBelowTrainDist, horizonBuckets, horizonTable } from './horizon-table.js';

/** A bucket with an energy score and its difference to the training distribution's, with its interval. */
const bucket = (es: number, diff: number, low: number, high: number) => ({ energy_score: es, train_dist: 3, diff_train_dist: diff, diff_train_dist_ci_low: low, diff_train_dist_ci_high: high, diff_next: es - 2, diff_next_ci_low: es - 2.1, diff_next_ci_high: es - 1.9, targets: 40 });

describe('energy score by horizon', () => {
  it('reads a stored family in horizon order, skipping what is not a horizon', () => {
    const b = horizonBuckets({ '10': { energy_score: 3 }, '2': { energy_score: 2, note: 'x' }, '1': { energy_score: 1 }, mean: { energy_score: 9 } });
    expect(b).toEqual([
      { horizon: 1, figures: { energy_score: 1 } },
      { horizon: 2, figures: { energy_score: 2 } },
      { horizon: 10, figures: { energy_score: 3 } },
    ]);
    expect(horizonBuckets(undefined)).toBeUndefined();
    expect(horizonBuckets([1, 2])).toBeUndefined();
    expect(horizonBuckets({})).toBeUndefined();
  });

  it('says through which horizon a head stays resolved below the training distribution', () => {
    const family = (...bs: ReturnType<typeof bucket>[]) => horizonBuckets(Object.fromEntries(bs.map((b, i) => [String(i + 1), b])))!;
    // Resolved below 0 at 1 and 2; 3's interval includes 0; 4 is below again, but the run of horizons broke at 3.
    expect(horizonBelowTrainDist(family(bucket(2, -1, -1.2, -0.8), bucket(2.5, -0.5, -0.7, -0.1), bucket(2.9, -0.1, -0.3, 0.1), bucket(2.8, -0.2, -0.3, -0.1)))).toBe(2);
    expect(horizonBelowTrainDist(family(bucket(3.1, 0.1, 0.05, 0.2)))).toBe(0);
    // An interval touching 0 is not resolved.
    expect(horizonBelowTrainDist(family(bucket(3, -0.2, -0.4, 0)))).toBe(0);
    expect(horizonBelowTrainDist(family(bucket(2, -1, -1.2, -0.8), bucket(2.5, -0.5, -0.7, -0.1)))).toBe(2);
    expect(horizonBelowTrainDist(horizonBuckets({ '1': { energy_score: 2, diff_train_dist: -1 } })!)).toBeUndefined();
  });

  it('prints a row per head with more than two horizons', () => {
    const three = { '1': bucket(2, -1, -1.2, -0.8), '2': bucket(2.5, -0.5, -0.7, -0.1), '3': bucket(3.05, 0.05, -0.1, 0.2) };
    const text = horizonTable([
      { stage: 'diffusion', kind: 'lcm-diffusion', family: three },
      { stage: 'mse', kind: 'lcm-mse', family: { '1': three['1'], '2': three['2'] } },
      { stage: 'other', kind: 'lcm-mse', family: undefined },
    ])!;
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^Concept heads by horizon \(energy_score_by_horizon\): the same targets at every horizon h/);
    expect(lines[1]).toMatch(/^model\s+kind\s+targets\s+train-dist ES\s+1 ahead: ES, - train-dist\s+2 ahead: ES, - train-dist\s+3 ahead: ES, - train-dist\s+below train-dist through$/);
    expect(lines[3]!.split(/\s{2,}/)).toEqual(['diffusion', 'lcm-diffusion', '40', '3', '2, -1.000 [-1.200, -0.800]', '2.500, -0.5000 [-0.7000, -0.1000]', '3.050, 0.0500 [-0.1000, 0.2000]', '2 ahead']);
    // Then what its own draws cost it, from horizon 2 on: one row.
    expect(lines[4]).toBe('');
    expect(lines[5]).toMatch(/^What reading its own draws costs each head: its energy score h ahead minus 1 ahead/);
    expect(lines[6]).toMatch(/^model\s+kind\s+2 ahead - 1 ahead\s+3 ahead - 1 ahead$/);
    expect(lines[8]!.split(/\s{2,}/)).toEqual(['diffusion', 'lcm-diffusion', '0.5000 [0.4000, 0.6000]', '1.050 [0.950, 1.150]']);
    expect(lines).toHaveLength(9);
    expect(horizonTable([{ stage: 'mse', kind: 'lcm-mse', family: { '1': three['1'], '2': three['2'] } }])).toBeUndefined();
  });
});
