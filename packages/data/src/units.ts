import { segment, segmentInWindows, type Segment } from '@sentencelab/segment';
import type { SegmentConfig } from './config.js';
import { DataError } from './errors.js';
import type { ByteLevelTokenizer } from './tokenizer-json.js';

/**
 * One unit of a document (sentence, clause or chunk) with its token ids. A sentence or clause
 * is trimmed; a chunk is exactly the text of its tokens, so it may start with a space (` the`).
 */
export interface TextUnit extends Segment {
  /** Token ids (no BOS/EOS). */
  tokens: Int32Array;
}

/**
 * Cuts a document into the units `config.mode` names, each with its token ids:
 * - `sentence` / `clause`: `segment` (over-long ones split to fit `maxTokens`, measured by the
 *   tokenizer), then each piece encoded on its own;
 * - `chunk`: each paragraph (blank-line separated, as `segment` finds them) encoded whole and
 *   cut into consecutive chunks of `config.tokens` tokens (the last one of a paragraph may be
 *   shorter), as CALM (arXiv 2510.27688) autoencodes chunks of K tokens.
 * Nothing is dropped: the units' texts, with the whitespace between them, rebuild `text`.
 */
export function segmentUnits(text: string, config: SegmentConfig, tokenizer: ByteLevelTokenizer): TextUnit[] {
  return [...eachUnit(text, config, tokenizer)];
}

/**
 * The units of {@link segmentUnits} one at a time. Sentences and clauses are found a bounded
 * window of text at a time (`segmentInWindows`), so a document that is one 50 MB line costs
 * memory for its units as they are consumed, not a whole-document segmentation at once; a
 * chunk-mode paragraph is encoded whole.
 */
export function* eachUnit(text: string, config: SegmentConfig, tokenizer: ByteLevelTokenizer, window?: number): Generator<TextUnit> {
  const locale = config.locale !== null ? { locale: config.locale } : {};
  if (config.mode !== 'chunk') {
    const options = { mode: config.mode, maxTokens: config.maxTokens, lengthOf: (s: string) => tokenizer.countTokens(s), ...locale };
    for (const s of segmentInWindows(text, options, window)) yield { ...s, tokens: Int32Array.from(tokenizer.encodeSync(s.text)) };
    return;
  }
  if (config.tokens === null) throw new DataError('segment.tokens: mode chunk needs the chunk length in tokens (e.g. tokens: 8)');
  const out: TextUnit[] = [];
  const sentences = segment(text, { mode: 'sentence', ...locale });
  for (let k = 0; k < sentences.length; ) {
    let last = k;
    while (last + 1 < sentences.length && !sentences[last + 1]!.paragraphStart) last++;
    chunkParagraph(text, sentences[k]!.start, sentences[last]!.end, config.tokens, tokenizer, out);
    yield* out;
    out.length = 0;
    k = last + 1;
  }
}

/**
 * Encodes `text[start, end)` whole and pushes its chunks of `size` tokens. A chunk ends on a
 * character boundary: where the `size`-th token ends inside a multi-byte character (byte-level
 * BPE can cut one), the chunk ends before that character, or, if it would then be empty, after
 * it (only when one character takes more than `size` tokens, so never for size >= 4).
 */
function chunkParagraph(text: string, start: number, end: number, size: number, tokenizer: ByteLevelTokenizer, out: TextUnit[]): void {
  const paragraph = text.slice(start, end);
  const ids = tokenizer.encodeSync(paragraph);
  // byteEnd[i]: UTF-8 offset just past token i in the paragraph.
  const byteEnd = new Int32Array(ids.length);
  let bytes = 0;
  for (let i = 0; i < ids.length; i++) {
    const piece = tokenizer.idToToken(ids[i]!);
    if (piece === null) throw new DataError(`segment chunk: token id ${ids[i]} is not in the vocabulary`);
    bytes += piece.length; // one byte-level symbol per byte
    byteEnd[i] = bytes;
  }
  const utf8 = Buffer.from(paragraph, 'utf8');
  if (bytes !== utf8.length) {
    throw new DataError(`segment chunk: the tokenizer does not encode text byte for byte (${bytes} token bytes for ${utf8.length} text bytes)`);
  }
  const boundary = (b: number): boolean => b >= utf8.length || (utf8[b]! & 0xc0) !== 0x80;
  // Cut points as token counts, then as UTF-16 offsets (one pass over the paragraph).
  const cuts: number[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = Math.min(i + size, ids.length);
    while (j > i && !boundary(byteEnd[j - 1]!)) j--;
    if (j === i) {
      j = i + size;
      while (!boundary(byteEnd[j - 1]!)) j++;
    }
    cuts.push(j);
    i = j;
  }
  let cp = 0; // UTF-16 offset in the paragraph
  let b = 0; // its UTF-8 offset
  let from = 0;
  let fromChar = 0;
  for (const j of cuts) {
    const target = byteEnd[j - 1]!;
    while (b < target) {
      const c = paragraph.codePointAt(cp)!;
      b += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      cp += c >= 0x10000 ? 2 : 1;
    }
    out.push({
      text: paragraph.slice(fromChar, cp),
      start: start + fromChar,
      end: start + cp,
      paragraphStart: from === 0,
      split: false,
      tokens: Int32Array.from(ids.slice(from, j)),
    });
    from = j;
    fromChar = cp;
  }
}
