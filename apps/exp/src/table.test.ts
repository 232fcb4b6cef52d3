import { describe, expect, test } from 'vitest';
import { figureWithInterval, figureWithRange, formatCell, intervalText } from './table.js';

describe('formatCell and figures with intervals', () => {
  test('numbers get decimals by size; an interval or range is formatted like its figure', () => {
    expect([100.72, 91.474, 2.8191, 0.05204, 1313.4, 29804, 4e-5].map(formatCell)).toEqual(['100.7', '91.474', '2.819', '0.0520', '1313', '29804', '4.00e-5']);
    expect(figureWithInterval(100.72, 91.474, 112.7)).toBe('100.7 [91.5, 112.7]');
    expect(figureWithInterval(89.819, 81.855, 100.76)).toBe('89.819 [81.855, 100.760]');
    expect(figureWithInterval(2.819, 2.71, 2.982)).toBe('2.819 [2.710, 2.982]');
    expect(figureWithInterval(0.052, 0.0446, 0.0565)).toBe('0.0520 [0.0446, 0.0565]');
    expect(figureWithInterval(5e-4, 2e-4, 8e-4)).toBe('5.00e-4 [2.00e-4, 8.00e-4]');
    // Integers stay integers; an integer figure among non-integer bounds takes its size's decimals.
    expect(figureWithInterval(80, 70, 91)).toBe('80 [70, 91]');
    expect(figureWithInterval(80, 70, 90.5)).toBe('80.000 [70.000, 90.500]');
    // 0 says nothing about the decimals wanted: each as formatCell writes it.
    expect(figureWithInterval(0, 0, 0)).toBe('0 [0, 0]');
    expect(figureWithInterval(0, -0.0157, 0.0703)).toBe('0 [-0.0157, 0.0703]');
    // The bench's tok/s with the range of its passes.
    expect(figureWithRange(1235, 956.2, 1543)).toBe('1235 (956-1543)');
    expect(figureWithRange(1313.4, 1244, 1437.6)).toBe('1313 (1244-1438)');
    // An interval alone: like its figure where given, else each bound on its own.
    expect(intervalText(91.474, 112.7, 100.72)).toBe('[91.5, 112.7]');
    expect(intervalText(91.474, 112.7)).toBe('[91.474, 112.7]');
  });
});
