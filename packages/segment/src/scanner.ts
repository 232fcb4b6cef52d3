import {
  ATERM, CLOSE, CR, EXTEND, LF, LOWER, NUMERIC, OLETTER, SCONTINUE, SEP, SP, STERM,
  SURROGATE, UPPER, astralClass, classTable, type CharClass,
} from './chars.js';

/** The class table for a locale: Greek, like ICU's `el` rules, ends questions with `;`. */
export function tableFor(locale: string | undefined): Uint8Array {
  const greek = locale !== undefined && /^el(?:[-_]|$)/i.test(locale);
  const key = greek ? 'el' : '';
  let table = tables.get(key);
  if (table === undefined) {
    table = classTable();
    if (greek) {
      table = table.slice();
      table[0x3b] = STERM;
    }
    tables.set(key, table);
  }
  return table;
}
const tables = new Map<string, Uint8Array>();

const triggers = new WeakMap<Uint8Array, RegExp>();

/** A regex (over UTF-16 code units) that finds the characters the scanner must look at. */
function triggerFor(table: Uint8Array): RegExp {
  let re = triggers.get(table);
  if (re === undefined) {
    const units: string[] = [];
    for (let c = 0; c < table.length; c++) {
      const k = table[c]!;
      if (k === LF || k === CR || k === SEP || k === ATERM || k === STERM || k === SURROGATE) {
        units.push(`\\u${c.toString(16).padStart(4, '0')}`);
      }
    }
    re = new RegExp(`[${units.join('')}]`, 'g');
    triggers.set(table, re);
  }
  return re;
}

/**
 * Sentence boundaries of `text[start, end)` by the Unicode rules (UAX #29, rules SB1-SB11),
 * the same rules `Intl.Segmenter` applies, in one linear pass. Pushes every boundary strictly
 * inside the range to `out`, in order. With the plain {@link classTable} the result equals
 * `Intl.Segmenter(..., { granularity: 'sentence' })` on the same text with `…` read as `.`
 * (tested), several times faster and in linear time.
 */
export function scanBoundaries(text: string, start: number, end: number, table: Uint8Array, out: number[]): void {
  const cls = (i: number): CharClass => {
    const c = table[text.charCodeAt(i)]!;
    if (c !== SURROGATE) return c;
    const lo = text.charCodeAt(i + 1);
    return lo >= 0xdc00 && lo <= 0xdfff && i + 1 < end ? astralClass(text.codePointAt(i)!) : 0;
  };
  const width = (i: number): number => {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 >= end) return 1;
    const lo = text.charCodeAt(i + 1);
    return lo >= 0xdc00 && lo <= 0xdfff ? 2 : 1;
  };
  // Skips Extend/Format characters from i (SB5).
  const skipExtend = (i: number): number => {
    while (i < end && cls(i) === EXTEND) i++;
    return i;
  };
  // The class before i, ignoring Extend/Format (SB5), or -1 at the range start.
  const classBeforeSkipping = (i: number): CharClass => {
    let j = i;
    while (j > start) {
      const lo = text.charCodeAt(j - 1);
      const hi = j >= start + 2 ? text.charCodeAt(j - 2) : 0;
      const k = lo >= 0xdc00 && lo <= 0xdfff && hi >= 0xd800 && hi <= 0xdbff ? j - 2 : j - 1;
      const c = cls(k);
      if (c !== EXTEND) return c;
      j = k;
    }
    return -1;
  };
  const push = (b: number): void => {
    if (b > start && b < end) out.push(b);
  };

  const trigger = triggerFor(table);
  let i = start;
  while (i < end) {
    // Jump to the next terminator or line break (native regex search, no per-character JS).
    trigger.lastIndex = i;
    if (!trigger.test(text)) break;
    i = trigger.lastIndex - 1;
    if (i >= end) break;
    let c = table[text.charCodeAt(i)]!;
    if (c === SURROGATE) {
      c = cls(i);
      if (c !== ATERM && c !== STERM) {
        i += width(i);
        continue;
      }
    }
    if (c === CR) {
      i += i + 1 < end && text.charCodeAt(i + 1) === 0x0a ? 2 : 1;
      push(i); // SB3, SB4
      continue;
    }
    if (c === LF || c === SEP) {
      i++;
      push(i); // SB4
      continue;
    }
    // A terminator (SATerm).
    const isA = c === ATERM;
    const after = skipExtend(i + width(i));
    if (after >= end) break;
    const next = cls(after);
    if (isA && next === NUMERIC) {
      i = after; // SB6
      continue;
    }
    if (isA && next === UPPER) {
      const prev = classBeforeSkipping(i);
      if (prev === UPPER || prev === LOWER) {
        i = after; // SB7
        continue;
      }
    }
    let k = after;
    while (k < end) {
      const ck = cls(k);
      if (ck !== CLOSE && ck !== EXTEND) break;
      k += width(k);
    }
    while (k < end) {
      const ck = cls(k);
      if (ck !== SP && ck !== EXTEND) break;
      k += width(k);
    }
    if (k >= end) break;
    const ck = cls(k);
    if (ck === LF || ck === SEP) {
      i = k + 1;
      push(i); // SB9-SB11 with the paragraph separator
      continue;
    }
    if (ck === CR) {
      i = k + (k + 1 < end && text.charCodeAt(k + 1) === 0x0a ? 2 : 1);
      push(i);
      continue;
    }
    if (ck === SCONTINUE || ck === ATERM || ck === STERM) {
      i = k; // SB8a
      continue;
    }
    if (isA) {
      let m = k;
      let cm: CharClass = -1;
      while (m < end) {
        cm = cls(m);
        if (cm === OLETTER || cm === UPPER || cm === LOWER || cm === LF || cm === CR || cm === SEP || cm === ATERM || cm === STERM) break;
        m += width(m);
      }
      if (m < end && cm === LOWER) {
        i = k; // SB8
        continue;
      }
    }
    push(k); // SB11
    i = k;
  }
}
