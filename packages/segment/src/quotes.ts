import { CLOSE, EXTEND, LOWER, NUMERIC, OLETTER, UPPER, charWidth, classAt } from './chars.js';

const OPEN_BRACKET = /\p{Ps}/u;
const CLOSE_BRACKET = /\p{Pe}/u;
const INITIAL_QUOTE = /\p{Pi}/u;
const FINAL_QUOTE = /\p{Pf}/u;

/**
 * Tells opening quotes and brackets from closing ones in one text (Unicode calls both "Close"
 * after a full stop). Queries for one sentence come in ascending order, so the count of
 * straight quotes resumes where it stopped: linear time even on a 50 MB line of `"a", "b"`.
 */
export class QuoteReader {
  private from = -1;
  private ch = '';
  private pos = 0;
  private count = 0;

  constructor(readonly text: string) {}

  /**
   * Whether the mark at `q` opens what follows: `走了。“再见` opens, `"Hi." Then` closes.
   * Brackets tell by their category; an initial quote (“ ‘ «) or an apostrophe opens when a
   * word follows it at once (German closes with “); a straight double quote closes when the
   * sentence so far (from `from`) holds an odd number of them, else opens before a word.
   */
  opensAt(q: number, from: number): boolean {
    const text = this.text;
    const ch = text.charAt(q);
    if (OPEN_BRACKET.test(ch)) return true;
    if (CLOSE_BRACKET.test(ch) || FINAL_QUOTE.test(ch)) return false;
    const wordFollows = startsWord(text, q + charWidth(text, q));
    if (INITIAL_QUOTE.test(ch) || ch === "'") return wordFollows;
    return this.countBefore(ch, from, q) % 2 === 0 && wordFollows;
  }

  /** End of the closing marks (and Extend characters) from `i`, stopping at an opening one. */
  closingEnd(i: number, from: number): number {
    const text = this.text;
    while (i < text.length) {
      const c = classAt(text, i);
      if (c === EXTEND || (c === CLOSE && !this.opensAt(i, from))) i += charWidth(text, i);
      else break;
    }
    return i;
  }

  private countBefore(ch: string, from: number, q: number): number {
    if (this.ch !== ch || this.from !== from || this.pos > q) {
      this.ch = ch;
      this.from = from;
      this.pos = from;
      this.count = 0;
    }
    let i = this.text.indexOf(ch, this.pos);
    while (i !== -1 && i < q) {
      this.count++;
      i = this.text.indexOf(ch, i + 1);
    }
    this.pos = q;
    return this.count;
  }
}

function startsWord(text: string, i: number): boolean {
  if (i >= text.length) return false;
  const c = classAt(text, i);
  return c === UPPER || c === LOWER || c === OLETTER || c === NUMERIC;
}
