/**
 * A cheap token count for when no tokenizer is at hand: one per CJK character (Han, kana,
 * full-width forms), and one per whitespace-separated word of other text, a long word counting
 * one per {@link WORD_CHUNK} code units. It never shrinks as text grows.
 */
export function estimateTokens(text: string): number {
  let tokens = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isCjkUnit(c)) {
      tokens += 1 + (run > 0 ? Math.ceil(run / WORD_CHUNK) : 0);
      run = 0;
      if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
    } else if (c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a)) {
      if (run > 0) tokens += Math.ceil(run / WORD_CHUNK);
      run = 0;
    } else run++;
  }
  return run > 0 ? tokens + Math.ceil(run / WORD_CHUNK) : tokens;
}

/** Code units of a long word (a URL, a run without spaces) counted as one token. */
export const WORD_CHUNK = 8;

function isCjkUnit(c: number): boolean {
  return (
    (c >= 0x2e80 && c <= 0x2fdf) || // radicals
    (c >= 0x3001 && c <= 0x30ff) || // CJK punctuation, hiragana, katakana
    (c >= 0x3400 && c <= 0x4dbf) || // extension A
    (c >= 0x4e00 && c <= 0x9fff) || // unified ideographs
    (c >= 0xf900 && c <= 0xfaff) || // compatibility ideographs
    (c >= 0xff01 && c <= 0xff60) || // full-width forms
    (c >= 0xd840 && c <= 0xd8bf) // high surrogates of planes 2 and 3 (extensions B-H)
  );
}
