import { describe, expect, test } from 'vitest';
import { formatCell, intervalText } from './table.js';

describe('formatCell and intervalText', () => {
  test('numbers get decimals by size; an interval takes its figure\'s decimals', () => {
    expect([100.72, 91.474, 2.8191, 0.05204, 1313.4, 29804, 4e-5].map(formatCell)).toEqual(['100.7', '91.474', '2.819', '0.0520', '1313', '29804', '4.00e-5']);
    expect(intervalText(91.474, 112.7, 100.72)).toBe('[91.5, 112.7]');
    expect(intervalText(2.71, 2.982, 2.819)).toBe('[2.710, 2.982]');
    expect(intervalText(1244.4, 1437.6, 1313)).toBe('[1244, 1438]');
    expect(intervalText(0.0446, 0.0565, 0.052)).toBe('[0.0446, 0.0565]');
    expect(intervalText(2e-4, 8e-4, 5e-4)).toBe('[2.00e-4, 8.00e-4]');
    expect(intervalText(70, 91, 80)).toBe('[70, 91]');
    expect(intervalText(70, 90.5, 80)).toBe('[70.000, 90.500]');
    // Without a figure, or with 0 (whose size says nothing), each bound on its own.
    expect(intervalText(91.474, 112.7)).toBe('[91.474, 112.7]');
    expect(intervalText(0, 0.0123, 0)).toBe('[0, 0.0123]');
  });
});
