import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { byteLevelAlphabet } from './byte-level.js';
import type { SpecialTokens } from './config.js';
import { DataError } from './errors.js';
import { parseMerges } from './tokenizer-json.js';

export interface TrainTokenizerOptions {
  /** Exact size of the resulting vocabulary: specials + 256 byte symbols + merges. */
  vocabSize: number;
  specials: SpecialTokens;
  /** Let the native trainer draw its progress bars on this process's stdout (default false). */
  showProgress?: boolean;
}

/**
 * The HF trainer, run in a child process: it writes progress bars to stdout (blank lines when
 * that is not a terminal) and blocks its thread for seconds, neither of which belongs in ours.
 */
const TRAIN_SCRIPT = `
try {
  const { Tokenizer } = require(process.argv[1]);
  const [spec, files, out] = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
  const tok = Tokenizer.fromString(spec);
  tok.train(files);
  tok.save(out);
} catch (e) {
  process.stderr.write(String(e && e.message || e));
  process.exit(1);
}
`;

function runTrainer(job: string, files: readonly string[], showProgress: boolean): Promise<void> {
  const binding = createRequire(import.meta.url).resolve('tokenizers');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['-e', TRAIN_SCRIPT, binding, job], { stdio: ['ignore', showProgress ? 'inherit' : 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => reject(new DataError(`tokenizer training failed: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new DataError(`tokenizer training failed: ${stderr.trim() || `exit ${code ?? signal}`} (files: ${files.join(', ')})`));
    });
  });
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
export async function trainTokenizer(files: string[], options: TrainTokenizerOptions): Promise<string> {
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
    const out = join(tmp, 'trained.json');
    const job = join(tmp, 'job.json');
    writeFileSync(job, JSON.stringify([JSON.stringify(spec(specials, {}, [])), files, out]));
    await runTrainer(job, files, options.showProgress ?? false);
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
