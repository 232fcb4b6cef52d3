import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Tokenizer } from 'tokenizers';
import type { SpecialTokens } from './config.js';
import { DataError } from './errors.js';
import { ByteLevelTokenizer, DEFAULT_SPECIALS, parseTokenizerJson } from './tokenizer-json.js';

export { DEFAULT_SPECIALS } from './tokenizer-json.js';

/**
 * A byte-level BPE tokenizer with the special-token ids a dataset needs. HF `tokenizers` loads
 * and validates it (and trains it, see trainTokenizer); encoding and decoding run in TypeScript
 * with exactly HF's rules (tests compare the two), because the node binding's encode costs
 * milliseconds per call. Special-token strings that occur in ordinary text are encoded as plain
 * text, never as the special id, so a corpus can't inject a PAD/BOS/EOS.
 */
export class BpeTokenizer extends ByteLevelTokenizer {
  /** sha256 of the tokenizer.json text. */
  readonly hash: string;

  private constructor(
    /** The HF `tokenizers` object (the reference implementation). */
    readonly native: Tokenizer,
    /** The tokenizer.json text. */
    readonly json: string,
    parsed: ReturnType<typeof parseTokenizerJson>,
    specials: SpecialTokens,
    origin: string,
  ) {
    super(parsed, specials, origin);
    this.hash = createHash('sha256').update(json).digest('hex');
    const nativeSize = native.getVocabSize(true);
    if (nativeSize !== this.vocabSize) {
      throw new DataError(`${origin}: tokenizers counts ${nativeSize} tokens, the vocabulary and added tokens hold ${this.vocabSize} distinct ids`, origin);
    }
  }

  /** Loads a tokenizer.json file (a byte-level BPE, e.g. one this package trained or GPT-2's). */
  static load(file: string, specials: SpecialTokens = DEFAULT_SPECIALS): BpeTokenizer {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new DataError(`${file}: ${code === 'ENOENT' ? 'tokenizer file not found' : `cannot read tokenizer (${code ?? String(e)})`}`, file);
    }
    return BpeTokenizer.fromJson(text, specials, file);
  }

  /** Builds a tokenizer from tokenizer.json text; `origin` names it in errors. */
  static fromJson(json: string, specials: SpecialTokens = DEFAULT_SPECIALS, origin = 'tokenizer.json'): BpeTokenizer {
    const parsed = parseTokenizerJson(json, origin);
    let tok: Tokenizer;
    try {
      tok = Tokenizer.fromString(json);
    } catch (e) {
      throw new DataError(`${origin}: tokenizers could not load it (${(e as Error).message})`, origin);
    }
    return new BpeTokenizer(tok, json, parsed, specials, origin);
  }
}
