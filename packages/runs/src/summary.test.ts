import { describe, expect, it } from 'vitest';
import { metricDirection, summarizeMetrics } from './summary.js';

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
    expect(metricDirection('accident_rate')).toBe('min');
  });
});
