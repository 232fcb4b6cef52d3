import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { estimateTokens, joinSegments, segment, segmentProblems, type SegmentOptions } from './index.js';

/** Pieces that stress the rules: terminators, quotes, brackets, abbreviations, whitespace. */
const SOUP = [
  ...'.!?…。！？．,;:，、；："\'“”‘’«»„「」『』()（）[]-—',
  ' ', '  ', '\t', '\n', '\n\n', '\r\n', '\r', '\u2028', '\u2029', '\u00a0', '\u3000', '\ufeff', '\u0085',
  'Mr.', 'U.S.', 'e.g.', 'etc.', 'p.m.', 'No.', 'J.', '1.', 'IV.', '3.14', '...',
  'word', 'The', 'she', '中文', '你好', 'é', '\u0301', '😀', '\ud800', '\udc00', 'x',
];

const soup = fc.array(fc.constantFrom(...SOUP), { maxLength: 60 }).map((parts) => parts.join(''));
const anyText = fc.oneof(
  soup,
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: fc.constantFrom(...' .\n"a?。'), maxLength: 80 }),
);
const options: fc.Arbitrary<SegmentOptions> = fc.record(
  {
    mode: fc.constantFrom('sentence' as const, 'clause' as const),
    maxTokens: fc.integer({ min: 1, max: 12 }),
    engine: fc.constantFrom('fast' as const, 'intl' as const),
  },
  { requiredKeys: [] },
);

describe('invariants', () => {
  test('offsets, trimming, whitespace-only gaps and exact reconstruction', () => {
    fc.assert(
      fc.property(anyText, options, (text, opts) => {
        const segments = segment(text, opts);
        expect(segmentProblems(text, segments)).toEqual([]);
        expect(joinSegments(text, segments)).toBe(text);
        if (segments.length > 0) expect(segments[0]!.paragraphStart).toBe(true);
        if (opts.maxTokens !== undefined) {
          for (const s of segments) expect(estimateTokens(s.text)).toBeLessThanOrEqual(opts.maxTokens);
        }
      }),
      { numRuns: 1500 },
    );
  });

  test('every piece fits a monotone custom lengthOf (UTF-8 bytes)', () => {
    const bytes = (s: string) => Buffer.byteLength(s);
    fc.assert(
      fc.property(anyText, fc.integer({ min: 4, max: 40 }), (text, maxTokens) => {
        const segments = segment(text, { maxTokens, lengthOf: bytes, mode: 'clause' });
        expect(joinSegments(text, segments)).toBe(text);
        for (const s of segments) expect(bytes(s.text)).toBeLessThanOrEqual(maxTokens);
      }),
      { numRuns: 500 },
    );
  });

  test('splitting only refines: the pieces of each sentence rebuild it', () => {
    fc.assert(
      fc.property(soup, fc.integer({ min: 1, max: 6 }), (text, maxTokens) => {
        const whole = segment(text);
        const pieces = segment(text, { maxTokens });
        for (const s of whole) {
          const inside = pieces.filter((p) => p.start >= s.start && p.end <= s.end);
          expect(inside.length).toBeGreaterThan(0);
          expect(joinSegments(s.text, inside.map((p) => ({ ...p, start: p.start - s.start, end: p.end - s.start })))).toBe(s.text);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('a long run without punctuation or spaces', () => {
    const text = 'a'.repeat(200_000);
    expect(segment(text).map((s) => [s.start, s.end])).toEqual([[0, 200_000]]);
    const pieces = segment(text, { maxTokens: 64 });
    expect(pieces).toHaveLength(Math.ceil(200_000 / (64 * 8)));
    expect(joinSegments(text, pieces)).toBe(text);
  });

  test.each([
    ['blank lines', '\n'.repeat(150_000) + 'x' + ' \n'.repeat(50_000)],
    ['quotes and stops', '"a." '.repeat(30_000)],
    ['closers', 'a.' + ')'.repeat(100_000) + ' B. ' + '('.repeat(100_000) + '\n'],
    ['stops before digits', '. 1'.repeat(50_000)],
    ['commas and quotes in one line', '"a", '.repeat(30_000)],
    ['abbreviations before a long word', 'U.S. ' + 'x'.repeat(150_000)],
  ])('adversarial input in linear time: %s', (_, text) => {
    for (const mode of ['sentence', 'clause'] as const) {
      const segments = segment(text, { mode, maxTokens: 50 });
      expect(segmentProblems(text, segments)).toEqual([]);
    }
  });

  test('engine intl reads long texts in windows, with the same result', () => {
    const prose = 'He said "Hi." Then Mr. Smith left at 5 p.m. on Jan. 3. 我走了。“再见！”\n\n';
    const text = prose.repeat(400); // 30 000 code units: several Intl.Segmenter windows
    expect(segment(text, { engine: 'intl' })).toEqual(segment(text));
    const long = 'word '.repeat(5000) + 'end. Next one.'; // one sentence longer than a window
    expect(segment(long, { engine: 'intl' }).map((s) => s.end)).toEqual([long.length - 10, long.length]);
  });

  test('the fast scanner and Intl.Segmenter give the same segments on prose', () => {
    fc.assert(
      fc.property(soup, (text) => {
        expect(segment(text, { engine: 'intl' })).toEqual(segment(text));
      }),
      { numRuns: 500 },
    );
  });

  test('segmentProblems reports what is wrong', () => {
    const text = 'Hi. There.';
    expect(segmentProblems(text, [{ text: 'Hi.', start: 0, end: 3, paragraphStart: true, split: false }])).toEqual([
      'non-whitespace text after offset 3 is in no segment',
    ]);
    expect(segmentProblems(text, [{ text: 'Hi. ', start: 0, end: 4, paragraphStart: true, split: false }])[0]).toMatch(/not trimmed/);
    expect(() => joinSegments(text, [{ text: 'Ho.', start: 0, end: 3, paragraphStart: true, split: false }])).toThrow(/differs/);
  });
});
