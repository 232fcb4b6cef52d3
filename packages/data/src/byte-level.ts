/**
 * Byte-level BPE pieces shared by training, loading and sync token counting: the GPT-2 byte ->
 * printable-character map, the pre-tokenizer regex, and a merge-rank BPE that matches HF
 * `tokenizers` (used for `countTokens`, which must be synchronous for segment's `lengthOf`).
 */

let byteToCharCache: string[] | undefined;

/** GPT-2's map from each of the 256 byte values to a printable Unicode character. */
export function byteToChar(): string[] {
  if (byteToCharCache) return byteToCharCache;
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const map: string[] = new Array<string>(256);
  const isPrintable = new Set(printable);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    map[b] = String.fromCodePoint(isPrintable.has(b) ? b : 256 + next++);
  }
  byteToCharCache = map;
  return map;
}

/**
 * The full byte-level alphabet (256 symbols, in byte order). A vocabulary that holds all of them
 * encodes any text without an unknown token.
 */
export function byteLevelAlphabet(): string[] {
  return [...byteToChar()];
}

/** The GPT-2 pre-tokenizer split (what HF's ByteLevel pre-tokenizer uses with use_regex). */
export const BYTE_LEVEL_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const encoder = new TextEncoder();

/** Maps a string's UTF-8 bytes to byte-level characters. */
export function toByteLevel(text: string): string {
  const map = byteToChar();
  const bytes = encoder.encode(text);
  let out = '';
  for (const b of bytes) out += map[b]!;
  return out;
}

/** Options of HF's ByteLevel pre-tokenizer that change how text is cut into words. */
export interface ByteLevelOptions {
  addPrefixSpace: boolean;
  useRegex: boolean;
}

/** Cuts text into pre-tokenizer words (before the byte map). */
export function preTokenize(text: string, options: ByteLevelOptions): string[] {
  const t = options.addPrefixSpace && !text.startsWith(' ') ? ` ${text}` : text;
  if (!options.useRegex) return t.length > 0 ? [t] : [];
  return t.match(BYTE_LEVEL_SPLIT) ?? [];
}

/**
 * Byte-level BPE encoding with merge ranks, applied the way HF `tokenizers` applies them: in
 * each pre-tokenized word, repeatedly merge the adjacent pair with the lowest rank (leftmost
 * first on ties), then look each piece up in the vocabulary. Word results are cached, so a
 * corpus costs about one BPE run per distinct word. Synchronous, so it can serve as segment's
 * `lengthOf`; much faster than the node binding's encode for many short texts.
 */
export class ByteLevelBpe {
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, Int32Array>();
  private static readonly SEP = '\u0000';

  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    merges: ReadonlyArray<readonly [string, string]>,
    private readonly options: ByteLevelOptions,
    private readonly maxCache = 500_000,
  ) {
    merges.forEach(([a, b], i) => {
      const key = a + ByteLevelBpe.SEP + b;
      if (!this.ranks.has(key)) this.ranks.set(key, i);
    });
  }

  /** The BPE pieces (byte-level strings) of one pre-tokenized word. */
  wordPieces(word: string): string[] {
    const symbols = Array.from(toByteLevel(word));
    while (symbols.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < symbols.length - 1; i++) {
        const r = this.ranks.get(symbols[i]! + ByteLevelBpe.SEP + symbols[i + 1]!);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      symbols.splice(best, 2, symbols[best]! + symbols[best + 1]!);
    }
    return symbols;
  }

  private wordIds(word: string): Int32Array {
    let ids = this.cache.get(word);
    if (ids === undefined) {
      const pieces = this.wordPieces(word);
      ids = new Int32Array(pieces.length);
      for (let i = 0; i < pieces.length; i++) {
        const id = this.vocab.get(pieces[i]!);
        if (id === undefined) throw new Error(`symbol ${JSON.stringify(pieces[i])} of ${JSON.stringify(word)} is not in the vocabulary`);
        ids[i] = id;
      }
      if (this.cache.size >= this.maxCache) this.cache.clear();
      this.cache.set(word, ids);
    }
    return ids;
  }

  /** Token ids of `text` (no special tokens added). */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const word of preTokenize(text, this.options)) for (const id of this.wordIds(word)) out.push(id);
    return out;
  }

  /** Number of tokens `text` encodes to. */
  count(text: string): number {
    let n = 0;
    for (const word of preTokenize(text, this.options)) n += this.wordIds(word).length;
    return n;
  }
}

/** Maps byte-level characters back to bytes. */
export function fromByteLevel(pieces: string): Uint8Array {
  const map = charToByte();
  const out = new Uint8Array(pieces.length);
  let n = 0;
  for (const ch of pieces) {
    const b = map.get(ch);
    if (b === undefined) throw new Error(`${JSON.stringify(ch)} is not a byte-level symbol`);
    out[n++] = b;
  }
  return out.subarray(0, n);
}

let charToByteCache: Map<string, number> | undefined;
function charToByte(): Map<string, number> {
  charToByteCache ??= new Map(byteToChar().map((c, b) => [c, b]));
  return charToByteCache;
}
