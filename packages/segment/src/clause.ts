import { isSpaceCode } from './chars.js';
import type { QuoteReader } from './quotes.js';

/** Clause punctuation: , ; : need a space after them (not "3,000", "3:45", "http://"). */
const CLAUSE = /[,;:\u037E\uFF0C\u3001\uFF1B\uFF1A\uFE50\uFE51\uFE54\uFE55\uFF64\uFE10\uFE11\uFE13\uFE14]/g;

/** True for the CJK (full-width) forms, which end a clause without a following space. */
function isWide(c: number): boolean {
  return c >= 0x3000;
}

/**
 * Cuts after clause punctuation, as the SentenceVAE paper segments: after , ; : followed by
 * whitespace, and after ，、；： anywhere. Closing quotes and brackets stay with the clause.
 * `sentenceCuts` (ascending) tell where quotes are counted from. Returns ascending cuts.
 */
export function clauseCuts(quotes: QuoteReader, sentenceCuts: readonly number[]): number[] {
  const text = quotes.text;
  const end = text.length;
  const cuts: number[] = [];
  let k = 0;
  let sentenceStart = 0;
  CLAUSE.lastIndex = 0;
  for (let m = CLAUSE.exec(text); m !== null; m = CLAUSE.exec(text)) {
    const i = m.index;
    while (k < sentenceCuts.length && sentenceCuts[k]! <= i) sentenceStart = sentenceCuts[k++]!;
    const p = quotes.closingEnd(i + 1, sentenceStart);
    if (p >= end) break;
    if (isWide(text.charCodeAt(i)) || isSpaceCode(text.charCodeAt(p))) cuts.push(p);
    CLAUSE.lastIndex = p;
  }
  return cuts;
}
