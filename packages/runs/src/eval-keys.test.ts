import { describe, expect, test } from 'vitest';
import { intervalBase, intervalEntries, intervalKeys } from './eval-keys.js';

describe('interval keys', () => {
  test('a figure and its interval keys map both ways; no entries without an interval', () => {
    expect(intervalKeys('ppl')).toEqual({ low: 'ppl_ci_low', high: 'ppl_ci_high' });
    expect(intervalBase('ppl_ci_low')).toBe('ppl');
    expect(intervalBase('recon_token_acc_ci_high')).toBe('recon_token_acc');
    expect(intervalBase('ppl')).toBeUndefined();
    expect(intervalBase('_ci_low')).toBeUndefined();
    expect(intervalEntries('ppl', { low: 1, high: 2 })).toEqual({ ppl_ci_low: 1, ppl_ci_high: 2 });
    expect(intervalEntries('ppl', undefined)).toEqual({});
  });
});
