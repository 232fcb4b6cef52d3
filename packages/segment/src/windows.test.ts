import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { joinSegments, segment, segmentInWindows, type SegmentOptions } from './index.js';

const SAMPLES = join(import.meta.dirname, '../../../datasets/samples');
const samples = readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.txt'))
  .map((f) => readFileSync(join(SAMPLES, f), 'utf8'));
/** All fixture texts, once as written and once as one line (paragraphs joined by a space). */
const texts = [...samples, samples.join('\n\n'), samples.map((t) => t.replace(/\s+/g, ' ')).join(' ')];

describe('segmentInWindows', () => {
  test.each<[string, SegmentOptions]>([
    ['sentence', {}],
    ['sentence, maxTokens 6', { maxTokens: 6 }],
    ['clause, maxTokens 9', { mode: 'clause', maxTokens: 9 }],
    ['sentence, character length 40', { maxTokens: 40, lengthOf: (s) => s.length }],
  ])('equals segment() on the fixture texts with small windows (%s)', (_, options) => {
    let windowsUsed = 0;
    for (const text of texts) {
      const whole = segment(text, options);
      for (const window of [200, 333, 1024]) {
        const got = [...segmentInWindows(text, options, window)];
        expect(got).toEqual(whole);
        if (text.length > window) windowsUsed++;
      }
    }
    expect(windowsUsed).toBeGreaterThan(10);
  });

  test('a sentence longer than the window is split the same way, its pieces all marked split', () => {
    const text = Array.from({ length: 600 }, (_, i) => `word${i % 13}`).join(' ') + '. Short one.';
    const options = { maxTokens: 7 };
    const whole = segment(text, options);
    expect(whole.filter((s) => s.split).length).toBeGreaterThan(50);
    for (const window of [128, 500, 2000]) expect([...segmentInWindows(text, options, window)]).toEqual(whole);
  });

  test('a blank line at a window edge still starts a paragraph; whitespace runs past the window', () => {
    const text = `One. Two.${' '.repeat(300)}\n\n${' '.repeat(300)}Three. Four.\nFive.`;
    const got = [...segmentInWindows(text, {}, 100)];
    expect(got).toEqual(segment(text));
    expect(got.map((s) => s.paragraphStart)).toEqual([true, false, true, false, false]);
    expect(joinSegments(text, got)).toBe(text);
  });

  test('rejects a window too small to hold a lookahead', () => {
    expect(() => [...segmentInWindows('text', {}, 10)]).toThrow(/window must be an integer >= 64, got 10/);
  });
});
