import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { classTable } from './chars.js';
import { scanBoundaries } from './scanner.js';

const intl = new Intl.Segmenter('en', { granularity: 'sentence' });

function intlBoundaries(text: string): number[] {
  const out: number[] = [];
  // `…` is a full stop for this package (see chars.ts); the same-length swap keeps offsets.
  for (const { index } of intl.segment(text.replaceAll('\u2026', '.'))) if (index > 0) out.push(index);
  return out;
}

function fastBoundaries(text: string): number[] {
  const out: number[] = [];
  scanBoundaries(text, 0, text.length, classTable(), out);
  return out;
}

// Characters of every sentence-break class, in scripts whose Unicode data Node's ICU and its
// regular expressions agree on (newer letters can differ between the two Unicode versions).
const ALPHABET = [
  ...'aZqQ éÉßΩωжЖ',
  ...'      ',
  ...'..!?…．。！？।؟։',
  ...',;:-–—，、；：',
  ...'"\'()[]{}“”‘’«»「」『』（）《》„',
  ...'0123456789٣１',
  ...'中文字かカ한글ก',
  '\n', '\r', '\r\n', '\u2028', '\u2029', '\u0085', '\t', '\u00a0', '\u3000',
  '\u0301', '\u200d', '\u200b', '\u00ad', '\ufeff',
  '😀', '𠀀',
];

describe('scanBoundaries', () => {
  test('equals Intl.Segmenter on random text over every sentence-break class', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ALPHABET), { maxLength: 30 }), (chars) => {
        const text = chars.join('');
        expect(fastBoundaries(text)).toEqual(intlBoundaries(text));
      }),
      { numRuns: 2000 },
    );
  });

  test('equals Intl.Segmenter on word-like text', () => {
    const word = fc.constantFrom('the', 'The', 'Mr', 'U.S', 'e.g', '3.14', 'etc', '中文', 'A', 'i', '(x)', '"Hi"');
    const punct = fc.constantFrom(' ', '. ', '.', '? ', '! ', '." ', '.) ', ', ', '\n', '\n\n', '。', '…', '.\u201d');
    fc.assert(
      fc.property(fc.array(fc.tuple(word, punct), { maxLength: 15 }), (parts) => {
        const text = parts.map(([w, p]) => w + p).join('');
        expect(fastBoundaries(text)).toEqual(intlBoundaries(text));
      }),
      { numRuns: 1000 },
    );
  });

  test('worked examples of the Unicode rules', () => {
    expect(fastBoundaries('Hi. Bye.')).toEqual([4]); // SB11
    expect(fastBoundaries('3.14 is pi.')).toEqual([]); // SB6
    expect(fastBoundaries('U.S.A. today')).toEqual([]); // SB7, SB8
    expect(fastBoundaries('etc. the end')).toEqual([]); // SB8
    expect(fastBoundaries('Why?, he said')).toEqual([]); // SB8a
    expect(fastBoundaries('He said "Hi." Then')).toEqual([14]); // SB9-SB11
    expect(fastBoundaries('one\ntwo\r\nthree')).toEqual([4, 9]); // SB4
  });
});
