/**
 * Character classes for sentence boundaries, after Unicode UAX #29 ("Sentence_Break"), built
 * once from the Unicode properties JavaScript regular expressions know. The fast scanner reads
 * them from a 64 Ki table (one byte per BMP code unit) instead of testing regexes per character.
 */

export const OTHER = 0;
export const SP = 1;
export const LF = 2;
export const CR = 3;
export const SEP = 4;
export const ATERM = 5;
export const STERM = 6;
export const CLOSE = 7;
export const SCONTINUE = 8;
export const NUMERIC = 9;
export const UPPER = 10;
export const LOWER = 11;
export const OLETTER = 12;
/** Extend and Format: transparent to the rules (UAX #29 SB5). */
export const EXTEND = 13;
/** A high surrogate: the class of the whole code point comes from {@link astralClass}. */
export const SURROGATE = 14;

export type CharClass = number;

const SCONTINUE_CHARS =
  ',\\-:;\\u037E\\u055D\\u060C\\u060D\\u07F8\\u1802\\u1808\\u2013\\u2014\\u3001\\uFE10\\uFE11\\uFE13' +
  '\\uFE31\\uFE32\\uFE50\\uFE51\\uFE55\\uFE58\\uFE63\\uFF0C\\uFF0D\\uFF1A\\uFF1B\\uFF64';
/** Full stops; `…` is one too here (not in UAX #29), so "Wait… What?" splits like "Wait... What?". */
const ATERM_CHARS = '.\\u2024\\uFE52\\uFF0E\\u2026';

/** Assignment order: later entries override earlier ones. */
const RULES: [RegExp, CharClass][] = [
  [/\p{Alphabetic}/u, OLETTER],
  [/\p{Lowercase}/u, LOWER],
  [/[\p{Uppercase}\p{Lt}]/u, UPPER],
  [/\p{Nd}/u, NUMERIC],
  // Close: Ps, Pe and Line_Break=Quotation (quotation marks and the New Testament editorial marks).
  [/[\p{Ps}\p{Pe}\p{Pi}\p{Pf}\p{Quotation_Mark}\u2E00-\u2E0D\u2E1C\u2E1D\u2E20\u2E21]/u, CLOSE],
  [/\p{Sentence_Terminal}/u, STERM],
  [new RegExp(`[${SCONTINUE_CHARS}]`, 'u'), SCONTINUE],
  [new RegExp(`[${ATERM_CHARS}]`, 'u'), ATERM],
  [/\p{White_Space}/u, SP],
  [/[\u0085\u2028\u2029]/u, SEP],
  [/\n/u, LF],
  [/\r/u, CR],
  [/[\p{Grapheme_Extend}\p{Mc}\u200D]/u, EXTEND],
  [/\p{Cf}/u, EXTEND],
  // Format, except the prepended concatenation marks (Arabic number signs ...), which UAX #29 leaves out.
  [/[\u0600-\u0605\u06DD\u070F\u0890\u0891\u08E2\u{110BD}\u{110CD}]/u, OTHER],
];

function buildTable(): Uint8Array {
  const table = new Uint8Array(0x10000);
  const units: string[] = [];
  for (let c = 0; c < 0x10000; c += 0x400) {
    const block = c >= 0xd800 && c < 0xe000 ? ' '.repeat(0x400) : String.fromCharCode(...Array.from({ length: 0x400 }, (_, k) => c + k));
    units.push(block);
  }
  const text = units.join('');
  for (const [re, cls] of RULES) {
    // Runs, not single characters: a few thousand matches instead of 64 Ki.
    const runs = new RegExp(`(?:${re.source})+`, re.flags + 'g');
    for (const m of text.matchAll(runs)) table.fill(cls, m.index, m.index + m[0].length);
  }
  table.fill(SURROGATE, 0xd800, 0xdc00);
  table.fill(OTHER, 0xdc00, 0xe000);
  return table;
}

let table: Uint8Array | undefined;

/** Sentence-break class of every BMP code unit (high surrogates: {@link SURROGATE}), built on first use. */
export function classTable(): Uint8Array {
  table ??= buildTable();
  return table;
}

const astralCache = new Map<number, CharClass>();

/** Sentence-break class of a code point outside the BMP (emoji, CJK extension B, ...). */
export function astralClass(codePoint: number): CharClass {
  let cls = astralCache.get(codePoint);
  if (cls === undefined) {
    const ch = String.fromCodePoint(codePoint);
    cls = OTHER;
    for (const [re, c] of RULES) if (re.test(ch)) cls = c;
    astralCache.set(codePoint, cls);
  }
  return cls;
}

/**
 * The class of the code point at `i` (the whole pair for a surrogate pair; a lone surrogate is
 * OTHER). Use {@link charWidth} to step over it.
 */
export function classAt(text: string, i: number): CharClass {
  const cls = (table ?? classTable())[text.charCodeAt(i)]!;
  if (cls !== SURROGATE) return cls;
  const lo = text.charCodeAt(i + 1);
  if (lo >= 0xdc00 && lo <= 0xdfff) return astralClass(text.codePointAt(i)!);
  return OTHER;
}

/** 2 at the start of a surrogate pair, else 1. */
export function charWidth(text: string, i: number): number {
  const hi = text.charCodeAt(i);
  if (hi >= 0xd800 && hi <= 0xdbff) {
    const lo = text.charCodeAt(i + 1);
    if (lo >= 0xdc00 && lo <= 0xdfff) return 2;
  }
  return 1;
}

/** The class of the code point that ends just before `i` (0 < i). */
export function classBefore(text: string, i: number): CharClass {
  const lo = text.charCodeAt(i - 1);
  if (lo >= 0xdc00 && lo <= 0xdfff && i >= 2) {
    const hi = text.charCodeAt(i - 2);
    if (hi >= 0xd800 && hi <= 0xdbff) return astralClass(text.codePointAt(i - 2)!);
  }
  return classAt(text, i - 1);
}

/** Start of the code point that ends just before `i`. */
export function prevStart(text: string, i: number): number {
  const lo = text.charCodeAt(i - 1);
  if (lo >= 0xdc00 && lo <= 0xdfff && i >= 2) {
    const hi = text.charCodeAt(i - 2);
    if (hi >= 0xd800 && hi <= 0xdbff) return i - 2;
  }
  return i - 1;
}

/**
 * Whitespace as `String.prototype.trim` sees it: the only characters allowed between segments.
 * (U+FEFF is whitespace here although UAX #29 calls it Format.)
 */
export function isSpaceCode(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/** Line terminators that count towards blank lines (CR LF counts once). */
export function isLineBreakCode(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x85 || c === 0x2028 || c === 0x2029;
}
