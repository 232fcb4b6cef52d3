import { SENTENCE_STARTERS, type AbbreviationTable } from './abbreviations.js';
import {
  ATERM, CLOSE, EXTEND, LOWER, NUMERIC, OLETTER, STERM, UPPER, classAt, classBefore, isLineBreakCode,
  isSpaceCode, prevStart,
} from './chars.js';
import type { QuoteReader } from './quotes.js';

const LIST_MARKER = /(?:[-*+•‣◦▪·–—]|\(?(?:\d{1,3}|[a-zA-Z])[.)]|\(\w{1,3}\))[^\S\n\r]/y;
const LIST_ITEM = /^\(?(?:\d{1,3}|[ivxlcdm]{1,6}|[IVXLCDM]{1,6}|[a-zA-Z])$/;
const DOTTED = /^(?:\p{L}\.)+\p{L}$/u;
const MAX_TOKEN = 48;

/**
 * Turns Unicode sentence boundaries (`candidates`, ascending) into the cuts between sentences,
 * fixing what the plain rules get wrong:
 * - abbreviations, initials and list numbers don't end sentences ("Mr. Smith", "J. R. R.
 *   Tolkien", "1. First item."), see {@link DEFAULT_ABBREVIATIONS};
 * - "?" or "!" before a lowercase word doesn't end one (`"Why?" she asked.`), nor does an
 *   ellipsis directly followed by a word (`他想了想……然后笑了`);
 * - an opening quote or bracket after the full stop starts the next sentence (`走了。“再见`);
 * - a single line break inside a paragraph is a space (hard-wrapped prose), unless the next
 *   line starts a list item; a blank line always ends a sentence.
 * A cut is the position where the next sentence may begin; whitespace around it is trimmed.
 */
export function refineBoundaries(
  quotes: QuoteReader,
  candidates: readonly number[],
  abbreviations: AbbreviationTable,
): number[] {
  const text = quotes.text;
  const end = text.length;
  const cuts: number[] = [];
  let contentStart = skipSpace(text, 0, end);
  // Every boundary inside one run of whitespace gets the same answer: decide once per run
  // (a megabyte of blank lines must not cost a megabyte per line).
  let gapEnd = -1;
  for (const b of candidates) {
    if (b <= contentStart || b <= gapEnd) continue;
    let e = b;
    while (e > contentStart && isSpaceCode(text.charCodeAt(e - 1))) e--;
    const s = skipSpace(text, b, end);
    gapEnd = s;
    if (s >= end || e <= contentStart) continue;
    const breaks = lineBreaks(text, e, s);
    let cut = -1;
    if (breaks >= 2) cut = s;
    else {
      let t = e;
      while (t > contentStart) {
        const c = classBefore(text, t);
        if (c !== CLOSE && c !== EXTEND) break;
        t = prevStart(text, t);
      }
      const term = t > contentStart ? classBefore(text, t) : -1;
      if (term === ATERM || term === STERM) {
        const closed = quotes.closingEnd(t, contentStart);
        const next = closed < e ? closed : s;
        if (endsSentence(text, prevStart(text, t), term, next, contentStart, abbreviations)) cut = next;
      } else if (breaks === 0 || startsListItem(text, s)) cut = s;
    }
    if (cut >= 0) {
      cuts.push(cut);
      contentStart = skipSpace(text, cut, end);
    }
  }
  return cuts;
}

function endsSentence(
  text: string,
  termPos: number,
  term: number,
  next: number,
  contentStart: number,
  abbreviations: AbbreviationTable,
): boolean {
  const nextClass = classAt(text, next);
  if (term === STERM) return nextClass !== LOWER;
  const code = text.charCodeAt(termPos);
  // "他想了想……然后笑了": an ellipsis runs on into a word that follows without a space.
  if (code === 0x2026) {
    const word = nextClass === UPPER || nextClass === LOWER || nextClass === OLETTER || nextClass === NUMERIC;
    return !(word && next === termPos + 1);
  }
  if (code !== 0x2e) return true;
  let from = termPos;
  while (from > contentStart && termPos - from < MAX_TOKEN && !isSpaceCode(text.charCodeAt(from - 1))) from--;
  const atStart = from === contentStart;
  while (from < termPos && classAt(text, from) === CLOSE) from++;
  const token = text.slice(from, termPos);
  if (atStart && LIST_ITEM.test(token)) return false;
  const kind =
    abbreviations.lookup(token) ??
    abbreviations.lookup(token.slice(Math.max(token.lastIndexOf('-'), token.lastIndexOf('/')) + 1)) ??
    (DOTTED.test(token) || (token.length === 1 && classAt(token, 0) === UPPER) ? 'ambiguous' : undefined);
  switch (kind) {
    case 'title': {
      // "at 1200 Larimer St. The pert woman": a title before a word that is never a name.
      const word = opener(text, next);
      return word !== 'Will' && word !== 'May' && SENTENCE_STARTERS.has(word);
    }
    case 'numeric':
      return nextClass !== NUMERIC;
    case 'ambiguous':
      // An opening double quote before a capital reads as a new sentence: `Jr. "Only a few`.
      return SENTENCE_STARTERS.has(opener(text, next)) || (nextClass === CLOSE && quotedCapital(text, next));
    default:
      return true;
  }
}

/** The letters of the word at `i`, after any opening quotes or brackets. */
const WORD = /[\p{L}\p{M}]+/uy;

/** The word at `i` as a possible sentence opener; an initial ("A." in "Sen. A. R. Smith") is none. */
function opener(text: string, i: number): string {
  const word = wordAt(text, i);
  return word.length === 1 && text.charCodeAt(text.indexOf(word, i) + 1) === 0x2e ? '' : word;
}

function wordAt(text: string, i: number): string {
  const end = Math.min(text.length, i + MAX_TOKEN);
  while (i < end && classAt(text, i) === CLOSE) i++;
  WORD.lastIndex = i;
  return WORD.exec(text)?.[0] ?? '';
}

function quotedCapital(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return (c === 0x22 || c === 0x201c) && classAt(text, i + 1) === UPPER;
}

function startsListItem(text: string, i: number): boolean {
  LIST_MARKER.lastIndex = i;
  return LIST_MARKER.test(text);
}

function skipSpace(text: string, i: number, end: number): number {
  while (i < end && isSpaceCode(text.charCodeAt(i))) i++;
  return i;
}

/** Line breaks in `text[from, to)` (CR LF counts once; U+2029 counts as a blank line). */
export function lineBreaks(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (!isLineBreakCode(c)) continue;
    if (c === 0x2029) n += 2;
    else if (!(c === 0x0d && text.charCodeAt(i + 1) === 0x0a)) n++;
  }
  return n;
}
