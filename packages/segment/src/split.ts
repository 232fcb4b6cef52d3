import { EXTEND, classAt, isSpaceCode } from './chars.js';

/** Punctuation after which a piece may end when a segment is too long (ASCII ones need a space after). */
const CLAUSE_END = new Set([...',;:，、；：﹐﹑﹔﹕､—–'].map((c) => c.charCodeAt(0)));

/**
 * Cuts `text[start, end)` (trimmed, too long) into pieces of at most `maxTokens` by `lengthOf`,
 * each ending at the best place that fits: after clause punctuation (if that keeps at least a
 * quarter of what fits), else at the last whitespace, else after the last whole code point
 * that fits. Pushes `[start, end)` pairs of trimmed, non-empty pieces; drops nothing.
 *
 * Cost: O(log) calls of `lengthOf` per piece, each on about one piece of text. When a single
 * code point exceeds `maxTokens` (a `lengthOf` that never fits), it becomes a piece alone.
 */
export function splitToFit(
  text: string,
  start: number,
  end: number,
  maxTokens: number,
  lengthOf: (s: string) => number,
  out: [number, number][],
): void {
  const fits = (a: number, b: number): boolean => checkedLength(lengthOf, text.slice(a, b)) <= maxTokens;
  let s = start;
  let guess = Math.max(8, Math.min(end - start, Math.ceil(maxTokens) * 4));
  while (s < end) {
    // Gallop: lo fits (or is s), hi doesn't.
    let lo = s;
    let hi = -1;
    let step = guess;
    for (;;) {
      const p = codePointFloor(text, Math.min(end, lo + step), s);
      if (p <= lo) {
        hi = lo + 1;
        break;
      }
      if (fits(s, p)) {
        lo = p;
        if (p === end) break;
        step *= 2;
      } else {
        hi = p;
        break;
      }
    }
    if (lo === end) {
      out.push([s, end]);
      return;
    }
    while (hi - lo > 1) {
      const mid = codePointFloor(text, (lo + hi) >>> 1, s);
      if (mid <= lo) break;
      if (fits(s, mid)) lo = mid;
      else hi = mid;
    }
    let cut = bestCut(text, s, lo);
    if (cut <= s) cut = s + forcedWidth(text, s);
    let pieceEnd = cut;
    while (pieceEnd > s && isSpaceCode(text.charCodeAt(pieceEnd - 1))) pieceEnd--;
    if (lo > s && cut !== lo && !fits(s, pieceEnd)) {
      cut = lo; // lengthOf is not monotone here: fall back to the longest prefix that fit
      pieceEnd = lo;
    }
    out.push([s, pieceEnd]);
    guess = Math.max(8, lo - s);
    s = cut;
    while (s < end && isSpaceCode(text.charCodeAt(s))) s++;
  }
}

/** The last good place to end a piece that starts at `s` and may run up to `limit`. */
function bestCut(text: string, s: number, limit: number): number {
  if (limit <= s) return s;
  const floor = s + ((limit - s) >> 2);
  let space = isSpaceCode(text.charCodeAt(limit)) ? limit : -1;
  for (let i = limit; i > s + 1; i--) {
    if (i < floor && space >= 0) break;
    const c = text.charCodeAt(i - 1);
    if (i >= floor && CLAUSE_END.has(c) && (c >= 0x2000 || isSpaceCode(text.charCodeAt(i)))) return i;
    if (space < 0 && isSpaceCode(c)) space = i - 1;
  }
  return space > s ? space : limit;
}

/** Rounds `p` down so it neither splits a surrogate pair nor separates a combining mark. */
function codePointFloor(text: string, p: number, min: number): number {
  if (p > min && (text.charCodeAt(p) & 0xfc00) === 0xdc00 && (text.charCodeAt(p - 1) & 0xfc00) === 0xd800) p--;
  let q = p;
  while (q > min && q < text.length && classAt(text, q) === EXTEND) q--;
  return q > min ? q : p;
}

function forcedWidth(text: string, s: number): number {
  return (text.charCodeAt(s) & 0xfc00) === 0xd800 && (text.charCodeAt(s + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
}

/** `lengthOf(piece)`, or a clear error when it is not a number >= 0. */
export function checkedLength(lengthOf: (s: string) => number, piece: string): number {
  const n = lengthOf(piece);
  if (typeof n !== 'number' || Number.isNaN(n) || n < 0) {
    throw new TypeError(`segment: options.lengthOf must return a number >= 0, got ${String(n)} for ${JSON.stringify(piece.slice(0, 40))}`);
  }
  return n;
}
