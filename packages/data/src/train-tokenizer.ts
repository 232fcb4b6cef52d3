import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from 'tokenizers';
import { byteLevelAlphabet } from './byte-level.js';
import type { SpecialTokens } from './config.js';
import { DataError } from './errors.js';
import { parseMerges } from './tokenizer.js';

export interface TrainTokenizerOptions {
  /** Exact size of the resulting vocabulary: specials + 256 byte symbols + merges. */
  vocabSize: number;
  specials: SpecialTokens;
}

/** The most symbols the `tokenizers` node binding's default BPE trainer learns. */
export const MAX_TRAINED_VOCAB = 30_000;

const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true } as const;

/** A tokenizer.json; the specials are in the model vocabulary too, at their added-token ids. */
function spec(specials: string[], vocab: Record<string, number>, merges: Array<[string, string]>): object {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: BYTE_LEVEL,
    post_processor: null,
    decoder: BYTE_LEVEL,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/**
 * Trains a byte-level BPE on text files and returns the tokenizer.json text. Ids: the specials
 * (pad, bos, eos, unk: 0..3), then all 256 byte symbols (so any text encodes), then the results
 * of the first merges, in merge order, until the vocabulary has exactly `vocabSize` entries.
 * Truncating BPE's greedy merge list is the same as training to the smaller vocabulary.
 */
export function trainTokenizer(files: string[], options: TrainTokenizerOptions): string {
  const { vocabSize } = options;
  const specials = [options.specials.pad, options.specials.bos, options.specials.eos, options.specials.unk];
  if (new Set(specials).size !== specials.length) {
    throw new DataError(`tokenizer.specials: a trained tokenizer needs four distinct special tokens (got ${specials.map((s) => JSON.stringify(s)).join(', ')})`);
  }
  const alphabet = byteLevelAlphabet();
  const wantedMerges = vocabSize - specials.length - alphabet.length;
  if (wantedMerges < 0 || vocabSize > MAX_TRAINED_VOCAB) {
    throw new DataError(
      `tokenizer.vocabSize: ${vocabSize} is out of range: it must be between ${specials.length + alphabet.length} (specials + 256 bytes) and ${MAX_TRAINED_VOCAB}`,
    );
  }
  const tmp = mkdtempSync(join(tmpdir(), 'sentencelab-bpe-'));
  let trained: { model: { merges: Array<string | [string, string]> } };
  try {
    const tok = Tokenizer.fromString(JSON.stringify(spec(specials, {}, [])));
    tok.train(files);
    const out = join(tmp, 'trained.json');
    tok.save(out);
    trained = JSON.parse(readFileSync(out, 'utf8')) as typeof trained;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const vocab: Record<string, number> = {};
  specials.forEach((s, id) => (vocab[s] = id));
  let next = specials.length;
  for (const ch of alphabet) vocab[ch] = next++;
  const merges: Array<[string, string]> = [];
  for (const [a, b] of parseMerges(trained.model.merges, 'trained tokenizer')) {
    if (next >= vocabSize) break;
    if (vocab[a] === undefined || vocab[b] === undefined) {
      throw new DataError(`trained tokenizer: merge "${a}" + "${b}" uses a symbol that is not in the vocabulary`);
    }
    const merged = a + b;
    const clash = specials.indexOf(merged);
    if (clash >= 0) {
      const role = (['pad', 'bos', 'eos', 'unk'] as const)[clash]!;
      throw new DataError(
        `tokenizer.specials.${role}: ${JSON.stringify(merged)} is also a token BPE learns from the corpus; choose a string that can't occur as one word, like "<${role}>"`,
      );
    }
    merges.push([a, b]);
    if (vocab[merged] === undefined) vocab[merged] = next++;
  }
  if (next < vocabSize) {
    throw new DataError(
      `tokenizer.vocabSize: the corpus is too small for ${vocabSize}: training found only ${merges.length} merges (a vocabulary of ${next}); lower tokenizer.vocabSize`,
    );
  }
  return JSON.stringify(spec(specials, vocab, merges));
}
