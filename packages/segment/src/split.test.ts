import { describe, expect, test } from 'vitest';
import { estimateTokens, joinSegments, segment } from './index.js';

describe('maxTokens', () => {
  test('splits at clause punctuation first, then whitespace; never truncates', () => {
    const input = 'The committee met on Monday, discussed the budget at length and adjourned late in the evening.';
    const got = segment(input, { maxTokens: 8 });
    expect(got.map((s) => s.text)).toEqual([
      'The committee met on Monday,',
      'discussed the budget at length and', // "discussed" counts 2 (9 characters)
      'adjourned late in the evening.',
    ]);
    expect(got.every((s) => s.split && estimateTokens(s.text) <= 8)).toBe(true);
    expect(joinSegments(input, got)).toBe(input);
  });

  test('a clause cut that would leave a tiny piece gives way to whitespace', () => {
    const input = 'Well, one two three four five six seven eight nine ten eleven twelve.';
    expect(segment(input, { maxTokens: 8 }).map((s) => s.text)).toEqual([
      'Well, one two three four five six seven',
      'eight nine ten eleven twelve.',
    ]);
  });

  test('Chinese splits after ，first', () => {
    const input = '我们今天去了公园，看到了很多美丽的花和高大的树木。';
    expect(segment(input, { maxTokens: 12 }).map((s) => s.text)).toEqual(['我们今天去了公园，', '看到了很多美丽的花和高大', '的树木。']);
  });

  test('a run without spaces is cut anywhere, never inside a surrogate pair', () => {
    const input = '😀'.repeat(10);
    const got = segment(input, { maxTokens: 3, lengthOf: (s) => [...s].length });
    expect(got.map((s) => s.text)).toEqual(['😀😀😀', '😀😀😀', '😀😀😀', '😀']);
  });

  test('a custom lengthOf (characters) is honoured; short segments are not marked split', () => {
    const got = segment('Short one. This sentence is rather long for the limit.', { maxTokens: 20, lengthOf: (s) => s.length });
    expect(got.map((s) => [s.text, s.split])).toEqual([
      ['Short one.', false],
      ['This sentence is', true],
      ['rather long for the', true],
      ['limit.', true],
    ]);
  });

  test('paragraphStart stays on the first piece only', () => {
    const got = segment('one two three four five six', { maxTokens: 2 });
    expect(got.map((s) => s.paragraphStart)).toEqual([true, false, false]);
  });

  test('calls lengthOf O(log) times per piece on a long run, on short texts', () => {
    const words = Array.from({ length: 20000 }, (_, i) => `w${i % 97}`);
    const input = words.join(' ');
    let calls = 0;
    let measured = 0;
    const got = segment(input, {
      maxTokens: 50,
      lengthOf: (s) => {
        calls++;
        measured += s.length;
        return estimateTokens(s);
      },
    });
    expect(got).toHaveLength(400);
    expect(got.every((s) => estimateTokens(s.text) === 50)).toBe(true);
    expect(calls).toBeLessThan(400 * 20);
    expect(measured).toBeLessThan(input.length * 40);
  });

  test('a lengthOf that never fits yields single code points, not an endless loop', () => {
    expect(segment('ab c', { maxTokens: 1, lengthOf: (s) => s.length * 2 }).map((s) => s.text)).toEqual(['a', 'b', 'c']);
  });
});

describe('estimateTokens', () => {
  test('counts words, CJK characters, and long words by chunks of 8', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('Hello, world.')).toBe(2);
    expect(estimateTokens('你好，世界。')).toBe(6);
    expect(estimateTokens('abcdefghijklmnopq')).toBe(3);
    expect(estimateTokens('I saw 中国 today')).toBe(5);
  });
});
