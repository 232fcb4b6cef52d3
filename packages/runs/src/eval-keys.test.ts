import { describe, expect, test } from 'vitest';
import { intervalBase, intervalEntries, intervalKeys, rangeKeys, storedBounds } from './eval-keys.js';

describe('interval keys', () => {
  test('a figure and its interval keys map both ways; no entries without an interval', () => {
    expect(intervalKeys('ppl')).toEqual({ low: 'ppl_ci_low', high: 'ppl_ci_high' });
    expect(intervalBase('ppl_ci_low')).toBe('ppl');
    expect(intervalBase('recon_token_acc_ci_high')).toBe('recon_token_acc');
    expect(intervalBase('ppl')).toBeUndefined();
    expect(intervalBase('_ci_low')).toBeUndefined();
    expect(intervalEntries('ppl', { low: 1, high: 2 })).toEqual({ ppl_ci_low: 1, ppl_ci_high: 2 });
    expect(intervalEntries('ppl', undefined)).toEqual({});
    // A measurement's range (the bench's passes) is not an interval: keys of its own.
    expect(rangeKeys('tokens_per_s')).toEqual({ low: 'tokens_per_s_min', high: 'tokens_per_s_max' });
    expect(intervalBase('tokens_per_s_min')).toBeUndefined();
    // Reading them back: both bounds numbers, else nothing.
    const record = { ppl: 50, ppl_ci_low: 45, ppl_ci_high: 55, tokens_per_s_min: 900, tokens_per_s_max: null };
    expect(storedBounds(record, intervalKeys('ppl'))).toEqual({ low: 45, high: 55 });
    expect(storedBounds(record, rangeKeys('tokens_per_s'))).toBeUndefined();
    expect(storedBounds(undefined, intervalKeys('ppl'))).toBeUndefined();
  });
});
