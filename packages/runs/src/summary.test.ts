import { describe, expect, it } from 'vitest';
import { metricDirection, metricHasBetterSide, summarizeMetrics } from './summary.js';

describe('summarizeMetrics', () => {
  it('matches a hand-worked example, skipping NaN and honouring directions', () => {
    const columns = {
      step: Int32Array.from([0, 0, 10, 10, 20, 20, 30]),
      wallTime: new Float64Array(7),
      name: ['loss', 'acc', 'loss', 'acc', 'loss', 'acc', 'loss'],
      value: Float64Array.from([5, 0.1, 3, 0.6, 4, 0.5, Number.NaN]),
    };
    const s = summarizeMetrics(columns, { acc: 'max' });
    expect(s.loss).toEqual({ count: 3, last: 4, lastStep: 20, min: 3, max: 5, best: 3, bestStep: 10, direction: 'min' });
    expect(s.acc).toEqual({ count: 3, last: 0.5, lastStep: 20, min: 0.1, max: 0.6, best: 0.6, bestStep: 10, direction: 'max' });
  });

  it('guesses directions from names', () => {
    expect(metricDirection('train/loss')).toBe('min');
    expect(metricDirection('val_ppl')).toBe('min');
    expect(metricDirection('contrastive_acc')).toBe('max');
    expect(metricDirection('tokens_per_s')).toBe('max');
    expect(metricDirection('train/gflop_per_s')).toBe('max');
    expect(metricDirection('accident_rate')).toBe('min');
    expect(metricDirection('val/score')).toBe('max');
    // The energy score is a loss (lower is better), whatever its separator.
    expect(['val/energy_score', 'energy-score', 'lcm/energy_score_posterior'].map(metricDirection)).toEqual(['min', 'min', 'min']);
  });

  it('knows the metrics whose "best" means nothing (schedule, diagnostics, counts, process load)', () => {
    for (const name of ['train/lr', 'svae/train/lr', 'train/grad_norm', 'train/tokens', 'train/targets', 'train/dropped_rows', 'sys/rss_mb', 'svae/sys/cpu_pct', 'sys/gpu_kernel_ms']) {
      expect(metricHasBetterSide(name), name).toBe(false);
    }
    for (const name of ['train/loss', 'val/loss', 'train/tokens_per_s', 'eval/tokens_total_loss', 'val/recon_loss_gap', 'train/lr_ratio_loss', 'sysloss']) {
      expect(metricHasBetterSide(name), name).toBe(true);
    }
  });
});
