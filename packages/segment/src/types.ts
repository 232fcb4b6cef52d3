/** One sentence (or clause, or piece of an over-long one) of a text. */
export interface Segment {
  /** `input.slice(start, end)`: never empty, never starts or ends with whitespace. */
  text: string;
  /** Offset of the first UTF-16 code unit in the input. */
  start: number;
  /** Offset just past the last UTF-16 code unit in the input. */
  end: number;
  /** True for the first segment and for each one that follows a blank line. */
  paragraphStart: boolean;
  /** True when the segment is a piece of a longer one, cut to fit `maxTokens`. */
  split: boolean;
}

export interface SegmentOptions {
  /** `sentence` (default) or `clause`: also cut after , ; : and ，、；：. */
  mode?: 'sentence' | 'clause';
  /** BCP 47 tag for the Unicode rules (`el` ends questions with `;`), passed to Intl.Segmenter. */
  locale?: string;
  /** Longest segment, measured by `lengthOf`; longer ones are split, never truncated. */
  maxTokens?: number;
  /** Length of a piece of text, in tokens (default {@link estimateTokens}). Should not shrink as text grows. */
  lengthOf?: (text: string) => number;
  /**
   * Where the Unicode boundaries come from: `fast` (default), this package's one-pass scanner
   * of the UAX #29 rules, or `intl`, `Intl.Segmenter` itself (slow: about 0.5 MB/s). Both feed
   * the same corrections and agree wherever Node's ICU and regex Unicode versions agree.
   */
  engine?: 'fast' | 'intl';
}
