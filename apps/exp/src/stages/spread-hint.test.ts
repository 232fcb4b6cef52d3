import { describe, expect, test } from 'vitest';
import { spreadHint } from './spread-hint.js';

describe('spreadHint', () => {
  test('names the way to turn the sampler only when the validation interval excludes 1', () => {
    expect(spreadHint({ val_spread_ratio: 0.545, val_spread_ratio_ci_low: 0.531, val_spread_ratio_ci_high: 0.558 })).toBe(
      'draws too alike on the validation documents (val. spread / skill 0.5450 [0.5310, 0.5580]): more initial noise or less guidance widens them',
    );
    expect(spreadHint({ val_spread_ratio: 1.038, val_spread_ratio_ci_low: 1.027, val_spread_ratio_ci_high: 1.049 })).toBe(
      'draws too scattered on the validation documents (val. spread / skill 1.038 [1.027, 1.049]): less initial noise narrows them',
    );
    // Including 1, or no interval stored (a single validation document): nothing to say.
    expect(spreadHint({ val_spread_ratio: 1.009, val_spread_ratio_ci_low: 0.999, val_spread_ratio_ci_high: 1.018 })).toBe('');
    expect(spreadHint({ val_spread_ratio: 0.5 })).toBe('');
    expect(spreadHint({ spread_ratio: 0.5, spread_ratio_ci_low: 0.4, spread_ratio_ci_high: 0.6 })).toBe('');
  });
});
