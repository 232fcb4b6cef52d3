/**
 * Batch layouts, in plain typed arrays.
 *
 * The data package hands out sentence batches `[B docs, S sentences, L tokens]`, PAD-filled,
 * with `lengths[b*S+s] = 0` marking an empty slot; sentences carry no BOS/EOS. The SentenceVAE
 * works on a flat list of sentences `[n, L]` + lengths; `flattenSentences` goes from one to the
 * other and remembers where each sentence came from.
 */

/** A sentence batch as the data package produces it. */
export interface SentenceBatchInput {
  /** [B * S * L] token ids, PAD-filled. */
  tokens: Int32Array;
  /** [B * S] sentence lengths; 0 = empty slot. */
  lengths: Int32Array;
  shape: readonly [number, number, number];
}

/** A flat batch of n sentences, each padded to `maxLen` tokens (no BOS/EOS). */
export interface SentenceTokens {
  /** [n * maxLen] token ids, PAD-filled. */
  tokens: Int32Array;
  /** [n] lengths, each in 1..maxLen. */
  lengths: Int32Array;
  n: number;
  maxLen: number;
}

/** Anything the model accepts as sentences: the data package's [B, S, L] batch, a flat batch, or token arrays. */
export type SentencesInput = SentenceBatchInput | SentenceTokens | readonly (readonly number[])[];

/** The special token ids the model needs (take them from the tokenizer). */
export interface SpecialIds {
  pad: number;
  bos: number;
  eos: number;
}

/** A flat sentence batch plus, for each sentence, its slot `b * S + s` in the source batch. */
export interface FlatSentences extends SentenceTokens {
  /** [n] slot index of each sentence in the [B, S] grid. */
  slots: Int32Array;
}

/**
 * Gather the non-empty sentences of a [B, S, L] batch into a flat [n, L'] batch, in slot order.
 * L' = the longest sentence present (so padding columns nobody uses cost nothing), unless
 * `trim: false` keeps L.
 */
export function flattenSentences(batch: SentenceBatchInput, { pad, trim = true }: { pad: number; trim?: boolean }): FlatSentences {
  const [B, S, L] = batch.shape;
  if (batch.tokens.length !== B * S * L) {
    throw new Error(`flattenSentences: tokens has ${batch.tokens.length} values, shape [${B}, ${S}, ${L}] needs ${B * S * L}`);
  }
  if (batch.lengths.length !== B * S) {
    throw new Error(`flattenSentences: lengths has ${batch.lengths.length} values, shape [${B}, ${S}] needs ${B * S}`);
  }
  const slots: number[] = [];
  let longest = 0;
  for (let slot = 0; slot < B * S; slot++) {
    const len = batch.lengths[slot]!;
    if (len < 0 || len > L) throw new Error(`flattenSentences: lengths[${slot}] = ${len} is outside 0..${L}`);
    if (len > 0) {
      slots.push(slot);
      longest = Math.max(longest, len);
    }
  }
  const maxLen = trim ? longest : L;
  const n = slots.length;
  const tokens = new Int32Array(n * maxLen).fill(pad);
  const lengths = new Int32Array(n);
  slots.forEach((slot, i) => {
    const len = batch.lengths[slot]!;
    lengths[i] = len;
    tokens.set(batch.tokens.subarray(slot * L, slot * L + len), i * maxLen);
  });
  return { tokens, lengths, n, maxLen, slots: Int32Array.from(slots) };
}

/** Pack token arrays into a flat padded batch (maxLen = the longest unless given). */
export function packSentences(sentences: readonly (readonly number[])[], { pad, maxLen }: { pad: number; maxLen?: number }): SentenceTokens {
  const longest = sentences.reduce((m, s) => Math.max(m, s.length), 0);
  const width = maxLen ?? longest;
  const tokens = new Int32Array(sentences.length * width).fill(pad);
  const lengths = new Int32Array(sentences.length);
  sentences.forEach((s, i) => {
    if (s.length === 0) throw new Error(`packSentences: sentence ${i} is empty`);
    if (s.length > width) throw new Error(`packSentences: sentence ${i} has ${s.length} tokens, more than maxLen ${width}`);
    tokens.set(s, i * width);
    lengths[i] = s.length;
  });
  return { tokens, lengths, n: sentences.length, maxLen: width };
}

/** The token arrays of a flat batch (without padding). */
export function unpackSentences(batch: SentenceTokens): number[][] {
  return Array.from({ length: batch.n }, (_, i) => Array.from(batch.tokens.subarray(i * batch.maxLen, i * batch.maxLen + batch.lengths[i]!)));
}

/** Decoder inputs and targets for teacher forcing, over T = maxLen + 1 positions. */
export interface TeacherForcing {
  /** [n * T]: BOS t1 .. tn PAD .. */
  inputs: Int32Array;
  /** [n * T]: t1 .. tn EOS PAD .. */
  targets: Int32Array;
  /** [n * T]: 1 on the len + 1 scored positions (real tokens + EOS), 0 on padding. */
  mask: Float32Array;
  /** Number of scored positions: sum(lengths) + n. */
  count: number;
  n: number;
  T: number;
}

/** Teacher forcing: input [BOS, t1..tn] predicts target [t1..tn, EOS]; padding is masked out. */
export function teacherForcing(batch: SentenceTokens, ids: SpecialIds): TeacherForcing {
  const { n, maxLen } = batch;
  const T = maxLen + 1;
  const inputs = new Int32Array(n * T).fill(ids.pad);
  const targets = new Int32Array(n * T).fill(ids.pad);
  const mask = new Float32Array(n * T);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const len = batch.lengths[i]!;
    if (len < 1 || len > maxLen) throw new Error(`teacherForcing: sentence ${i} has length ${len}, outside 1..${maxLen}`);
    const row = batch.tokens.subarray(i * maxLen, i * maxLen + len);
    inputs[i * T] = ids.bos;
    inputs.set(row, i * T + 1);
    targets.set(row, i * T);
    targets[i * T + len] = ids.eos;
    mask.fill(1, i * T, i * T + len + 1);
    count += len + 1;
  }
  return { inputs, targets, mask, count, n, T };
}
