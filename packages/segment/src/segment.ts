import { DEFAULT_ABBREVIATIONS, abbreviationTable } from './abbreviations.js';
import { isSpaceCode } from './chars.js';
import { clauseCuts } from './clause.js';
import { intlBoundaries } from './intl.js';
import { estimateTokens } from './length.js';
import { QuoteReader } from './quotes.js';
import { lineBreaks, refineBoundaries } from './rules.js';
import { scanBoundaries, tableFor } from './scanner.js';
import { checkedLength, splitToFit } from './split.js';
import type { Segment, SegmentOptions } from './types.js';

const ABBREVIATIONS = abbreviationTable(DEFAULT_ABBREVIATIONS);

/**
 * Splits `text` into sentences (or clauses) with offsets into it. Nothing is dropped: the
 * segments, with the whitespace between them, rebuild `text` exactly (see `joinSegments`).
 *
 * Boundaries follow the Unicode sentence rules (those of `Intl.Segmenter`) corrected for
 * abbreviations, initials, list numbers, quotes and hard-wrapped lines; `mode: 'clause'` also
 * cuts after , ; : ，、；：; with `maxTokens`, longer segments are split (never truncated).
 */
export function segment(text: string, options: SegmentOptions = {}): Segment[] {
  if (typeof text !== 'string') throw new TypeError(`segment: text must be a string, got ${typeof text}`);
  const { mode = 'sentence', locale, maxTokens, lengthOf = estimateTokens, engine = 'fast' } = options;
  if (mode !== 'sentence' && mode !== 'clause') {
    throw new RangeError(`segment: options.mode must be 'sentence' or 'clause', got ${JSON.stringify(mode)}`);
  }
  if (engine !== 'fast' && engine !== 'intl') {
    throw new RangeError(`segment: options.engine must be 'fast' or 'intl', got ${JSON.stringify(engine)}`);
  }
  if (maxTokens !== undefined && !(typeof maxTokens === 'number' && maxTokens >= 1)) {
    throw new RangeError(`segment: options.maxTokens must be a number >= 1, got ${String(maxTokens)}`);
  }
  if (typeof lengthOf !== 'function') throw new TypeError('segment: options.lengthOf must be a function');
  if (locale !== undefined) checkLocale(locale);

  const candidates: number[] = [];
  if (engine === 'intl') intlBoundaries(text, locale, candidates);
  else scanBoundaries(text, 0, text.length, tableFor(locale), candidates);
  const quotes = new QuoteReader(text);
  let cuts = refineBoundaries(quotes, candidates, ABBREVIATIONS);
  if (mode === 'clause') cuts = mergeAscending(cuts, clauseCuts(quotes, cuts));

  const segments: Segment[] = [];
  let previousEnd = -1;
  const emit = (start: number, end: number, paragraphStart: boolean, split: boolean): void => {
    segments.push({ text: text.slice(start, end), start, end, paragraphStart, split });
  };
  const limit = maxTokens ?? Infinity;
  const pieces: [number, number][] = [];
  for (let k = 0; k <= cuts.length; k++) {
    let start = k === 0 ? 0 : cuts[k - 1]!;
    let end = k === cuts.length ? text.length : cuts[k]!;
    while (start < end && isSpaceCode(text.charCodeAt(start))) start++;
    while (end > start && isSpaceCode(text.charCodeAt(end - 1))) end--;
    if (start === end) continue;
    const paragraphStart = previousEnd < 0 || lineBreaks(text, previousEnd, start) >= 2;
    previousEnd = end;
    if (limit === Infinity || checkedLength(lengthOf, text.slice(start, end)) <= limit) {
      emit(start, end, paragraphStart, false);
      continue;
    }
    pieces.length = 0;
    splitToFit(text, start, end, limit, lengthOf, pieces);
    pieces.forEach(([a, b], i) => emit(a, b, paragraphStart && i === 0, true));
  }
  return segments;
}

function checkLocale(locale: unknown): void {
  try {
    if (typeof locale !== 'string') throw new TypeError(`got ${typeof locale}`);
    Intl.getCanonicalLocales(locale);
  } catch (error) {
    throw new RangeError(`segment: options.locale must be a BCP 47 language tag such as 'en' or 'zh-CN', got ${JSON.stringify(locale)} (${(error as Error).message})`);
  }
}

function mergeAscending(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    if (out.length === 0 || out[out.length - 1]! < x) out.push(x);
  }
  return out;
}
