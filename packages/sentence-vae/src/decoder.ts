import * as tf from '@tensorflow/tfjs-core';
import { init, LearnedPositionalEmbedding, Linear, Module, type Embedding, type Rng, type StackCache, type TransformerStack } from '@sentencelab/tensor';
import { teacherForcing, type SentenceTokens, type SpecialIds, type TeacherForcing } from './batch.js';
import type { DecoderConfig, LossConfig } from './config.js';
import { createStack } from './stack.js';
import { lengthGroups } from './length-groups.js';
import { focalGamma, targetLogProbs, tokenLoss } from './token-loss.js';
import { checkSentences, createTokenEmbedding, embedTokens } from './token-input.js';
import { dropWords } from './word-dropout.js';

export interface SentenceDecoderOptions {
  vocabSize: number;
  dModel: number;
  /** Longest sentence (tokens, EOS not counted). */
  maxTokens: number;
  config: DecoderConfig;
  loss: LossConfig;
  specialIds: SpecialIds;
  rng: Rng;
  /** A token embedding owned elsewhere (shared with the encoder); default: the decoder's own `embed`. */
  embedding?: Embedding;
}

/** Summed token loss and the number of scored positions (real tokens + EOS): mean = sum / count. */
export interface TokenLoss {
  sum: tf.Scalar;
  count: number;
  /** With `{nll: true}`: the summed negative log-likelihood (= sum for cross-entropy; differs for focal). */
  nll?: tf.Scalar;
}

/**
 * Incremental decoding state of `rows` sequences: the cross-attention context, the KV cache
 * (or, without a cache, the tokens fed so far) and the position reached. Dispose when done.
 */
export class DecoderState {
  /** Tokens fed so far per row (the no-cache reference path re-reads them). */
  history: number[][];

  constructor(
    public context: tf.Tensor3D,
    readonly cache: StackCache | undefined,
    public rows: number,
  ) {
    this.history = Array.from({ length: rows }, () => []);
  }

  /** Positions fed so far. */
  get length(): number {
    return this.history[0]?.length ?? 0;
  }

  /**
   * Keep rows: new row r continues old row `from[r]` (context, KV cache, history). Beam search
   * reorders with it; decoding drops finished rows with it, so they cost nothing further.
   */
  select(from: Int32Array): void {
    for (const r of from) if (!(r >= 0 && r < this.rows)) throw new Error(`DecoderState.select: row ${r} is outside 0..${this.rows - 1}`);
    this.history = Array.from(from, (r) => [...this.history[r]!]);
    const idx = tf.tensor1d(from, 'int32');
    const gather = <T extends tf.Tensor>(t: T): T => {
      const g = tf.keep(tf.gather(t, idx)) as T;
      t.dispose();
      return g;
    };
    this.context = gather(this.context);
    for (const layer of this.cache?.layers ?? []) {
      for (const kv of [layer.self, layer.cross]) {
        if (kv.k !== undefined) kv.k = gather(kv.k);
        if (kv.v !== undefined) kv.v = gather(kv.v);
      }
    }
    idx.dispose();
    this.rows = from.length;
  }

  dispose(): void {
    this.context.dispose();
    this.cache?.dispose();
  }
}

/**
 * Sentence decoder: a causal transformer decoder whose cross-attention memory is the sentence
 * vector (or any conditioning vector: an SLLM hidden state, a predicted concept embedding),
 * then vocabulary logits. Teacher forcing feeds [BOS, t1..tn] and scores [t1..tn, EOS].
 * Parameters: `embed` (unless shared), `positions` (learned), `memory` (memorySlots > 1),
 * `transformer.*`, `head` (untied output).
 */
export class SentenceDecoder extends Module {
  readonly dModel: number;
  readonly vocabSize: number;
  readonly maxTokens: number;
  readonly memorySlots: number;
  readonly specialIds: SpecialIds;
  readonly lossConfig: LossConfig;
  readonly embedding: Embedding;
  readonly positions: LearnedPositionalEmbedding | undefined;
  readonly memoryProjection: Linear | undefined;
  readonly transformer: TransformerStack;
  readonly head: Linear | undefined;
  /** Word dropout rate of the teacher-forced inputs in training mode (config `wordDropout`). */
  readonly wordDropout: number;
  private readonly rng: Rng;

  constructor(o: SentenceDecoderOptions) {
    super();
    this.dModel = o.dModel;
    this.vocabSize = o.vocabSize;
    this.maxTokens = o.maxTokens;
    this.memorySlots = o.config.memorySlots;
    this.specialIds = o.specialIds;
    this.lossConfig = o.loss;
    this.wordDropout = o.config.wordDropout;
    this.rng = o.rng;
    this.embedding = o.embedding ?? this.addModule('embed', createTokenEmbedding(o.vocabSize, o.dModel, o.rng));
    if (o.config.positions === 'learned') {
      // BOS + up to maxTokens tokens are fed.
      this.positions = this.addModule('positions', new LearnedPositionalEmbedding({ maxLen: o.maxTokens + 1, dim: o.dModel, rng: o.rng }));
    }
    if (this.memorySlots > 1) {
      // N(0, 1/d) keeps each slot at the vector's own scale (unit per element after the
      // encoder's LayerNorm). Linear's default N(0, 0.02) made the slots ~0.2x the vector at
      // d 128, so the vector reached the decoder through three small matrices (memory, value,
      // output) instead of two: on Brown clauses the decoder then ignored it for 200 steps
      // (val/recon_loss_gap 0.000) where one slot had a gap of 0.58.
      this.memoryProjection = this.addModule(
        'memory',
        new Linear({ inFeatures: o.dModel, outFeatures: o.dModel * this.memorySlots, init: init.normal(1 / Math.sqrt(o.dModel)), rng: o.rng }),
      );
    }
    this.transformer = this.addModule('transformer', createStack(o.config, o.dModel, true, o.rng));
    if (!o.config.tieOutput) this.head = this.addModule('head', new Linear({ inFeatures: o.dModel, outFeatures: o.vocabSize, rng: o.rng }));
  }

  /**
   * Cross-attention context from the conditioning: memory [n, d] -> [n, memorySlots, d]
   * (a learned Linear(d, k*d) when memorySlots > 1); memory [n, k, d] is used as it is.
   */
  context(memory: tf.Tensor): tf.Tensor3D {
    const d = this.dModel;
    if (!((memory.rank === 2 || memory.rank === 3) && memory.shape[memory.rank - 1] === d)) {
      throw new Error(`SentenceDecoder: memory must be [n, ${d}] or [n, k, ${d}], got [${memory.shape}]`);
    }
    return tf.tidy(() => {
      if (memory.rank === 3) return memory.clone() as tf.Tensor3D;
      const n = memory.shape[0]!;
      if (this.memoryProjection === undefined) return tf.reshape(memory, [n, 1, d]) as tf.Tensor3D;
      return tf.reshape(this.memoryProjection.forward(memory), [n, this.memorySlots, d]) as tf.Tensor3D;
    });
  }

  /**
   * Final hidden states for token inputs at positions offset.. (offset = the cache length).
   * context: [n, k, d], ids: int32 [n, T] -> [n, T, d].
   */
  hidden(context: tf.Tensor3D, ids: tf.Tensor2D, cache?: StackCache): tf.Tensor3D {
    const offset = cache?.length ?? 0;
    if (this.positions !== undefined && offset + ids.shape[1] > this.maxTokens + 1) {
      throw new Error(`SentenceDecoder: ${offset + ids.shape[1]} positions exceed maxTokens + 1 = ${this.maxTokens + 1} (learned positions)`);
    }
    return tf.tidy(() => this.transformer.forward(embedTokens(this.embedding, this.positions, ids, offset), { causal: true, context, cache }) as tf.Tensor3D);
  }

  /** Vocabulary logits of hidden states: [..., d] -> [..., V] (tied or untied output). */
  project(h: tf.Tensor): tf.Tensor {
    return this.head === undefined ? this.embedding.project(h) : this.head.forward(h);
  }

  /** Logits for token inputs: context [n, k, d], ids int32 [n, T] -> [n, T, V]. */
  logits(context: tf.Tensor3D, ids: tf.Tensor2D, cache?: StackCache): tf.Tensor3D {
    return tf.tidy(() => this.project(this.hidden(context, ids, cache)) as tf.Tensor3D);
  }

  /**
   * Teacher-forced log p(target) of the scored positions only (real tokens + EOS, in row-major
   * order): [count]. Sentences of similar length run through the stack together, each group
   * padded to its own longest ({@link lengthGroups}), and the vocabulary projection, the
   * costliest matmul, skips the padding rows. In training mode with `wordDropout` > 0 some inputs
   * are replaced by the pad id first (drawn over the whole batch, as without groups).
   */
  private teacherForced(memory: tf.Tensor, targets: SentenceTokens): { logp: tf.Tensor1D; tf: TeacherForcing } {
    const { logits, scored, tf: tfb } = this.teacherForcedLogits(memory, targets);
    const logp = tf.tidy(() => targetLogProbs(logits, tf.tensor1d(scored, 'int32')));
    logits.dispose();
    return { logp, tf: tfb };
  }

  /** The vocabulary logits of {@link teacherForced}'s scored positions, [count, V], with their targets. */
  private teacherForcedLogits(memory: tf.Tensor, targets: SentenceTokens): { logits: tf.Tensor2D; scored: Int32Array; tf: TeacherForcing } {
    const batch = checkSentences(targets, this.maxTokens, this.vocabSize);
    if (memory.shape[0] !== batch.n) throw new Error(`SentenceDecoder: memory has ${memory.shape[0]} rows but targets has ${batch.n} sentences`);
    const tfb = teacherForcing(batch, this.specialIds);
    const { n, T, count } = tfb;
    // The pad id stands for a dropped word: no scored position ever reads it otherwise.
    const inputs = this.training ? dropWords(tfb, batch.lengths, this.wordDropout, this.specialIds.pad, this.rng) : tfb.inputs;
    const groups = lengthGroups(batch.lengths);
    // Each group's inputs, [g, Tg] with Tg = its longest + 1; where sentence i's rows start in the groups' hidden states laid end to end.
    const groupInputs: { ids: Int32Array; g: number; Tg: number }[] = [];
    const rowStart = new Int32Array(n);
    let offset = 0;
    for (const g of groups) {
      let Tg = 0;
      for (const i of g) Tg = Math.max(Tg, batch.lengths[i]! + 1);
      const ids = new Int32Array(g.length * Tg);
      g.forEach((i, k) => {
        ids.set(inputs.subarray(i * T, i * T + Tg), k * Tg);
        rowStart[i] = offset + k * Tg;
      });
      groupInputs.push({ ids, g: g.length, Tg });
      offset += g.length * Tg;
    }
    const rows = new Int32Array(count);
    const scored = new Int32Array(count);
    for (let p = 0, c = 0; p < n * T; p++) {
      if (tfb.mask[p] === 0) continue;
      rows[c] = rowStart[Math.floor(p / T)]! + (p % T);
      scored[c++] = tfb.targets[p]!;
    }
    const logits = tf.tidy(() => {
      const context = this.context(memory);
      const hidden = groups.map((g, k) => {
        const { ids, g: size, Tg } = groupInputs[k]!;
        const ctx = groups.length === 1 ? context : (tf.gather(context, tf.tensor1d(g, 'int32')) as tf.Tensor3D);
        return tf.reshape(this.hidden(ctx, tf.tensor2d(ids, [size, Tg], 'int32')), [size * Tg, this.dModel]);
      });
      const picked = tf.gather(hidden.length === 1 ? hidden[0]! : tf.concat(hidden), tf.tensor1d(rows, 'int32'));
      return this.project(picked) as tf.Tensor2D;
    });
    return { logits, scored, tf: tfb };
  }

  /**
   * Reconstruction loss of `targets` given the conditioning `memory` ([n, d] or [n, k, d]):
   * the configured token loss summed over real tokens + EOS, and the count of those positions
   * (and, with `nll: true`, the summed negative log-likelihood for perplexity). `loss` replaces
   * the decoder's own loss config (the SLLM trains the decoder with its own objective).
   */
  loss(memory: tf.Tensor, targets: SentenceTokens, { nll = false, loss: lossConfig = this.lossConfig }: { nll?: boolean; loss?: LossConfig } = {}): TokenLoss {
    let count = 0;
    const [sum, negLogLik] = tf.tidy(() => {
      const { logits, scored, tf: tfb } = this.teacherForcedLogits(memory, targets);
      count = tfb.count;
      const t = tf.tensor1d(scored, 'int32');
      const loss = tokenLoss(logits, t, lossConfig);
      if (!nll) return [loss];
      return [loss, focalGamma(lossConfig) === 0 ? loss.clone() : tokenLoss(logits, t, { type: 'cross-entropy', gamma: 0 })];
    });
    return negLogLik === undefined ? { sum: sum!, count } : { sum: sum!, count, nll: negLogLik };
  }

  /**
   * Per-token log-probabilities (natural log) of `targets` + EOS under teacher forcing:
   * [n, L + 1], position j of sentence i scores token j (j = length: the EOS); 0 past the EOS.
   */
  logProbs(memory: tf.Tensor, targets: SentenceTokens): tf.Tensor2D {
    return tf.tidy(() => {
      const { logp, tf: tfb } = this.teacherForced(memory, targets);
      // Back onto the caller's [n, L + 1] grid (L may exceed the trimmed width): position
      // (i, j) reads its scored entry, or the appended 0.
      const W = targets.maxLen + 1;
      const source = new Int32Array(tfb.n * W).fill(tfb.count);
      for (let p = 0, c = 0; p < tfb.n * tfb.T; p++) {
        if (tfb.mask[p] !== 0) source[Math.floor(p / tfb.T) * W + (p % tfb.T)] = c++;
      }
      const padded = tf.concat([logp, tf.zeros([1])]);
      return tf.reshape(tf.gather(padded, tf.tensor1d(source, 'int32')), [tfb.n, W]) as tf.Tensor2D;
    });
  }

  /** Starts incremental decoding of memory's n rows; `useCache: false` recomputes every prefix (the reference path). */
  begin(memory: tf.Tensor, { useCache = true }: { useCache?: boolean } = {}): DecoderState {
    const context = tf.keep(this.context(memory));
    return new DecoderState(context, useCache ? this.transformer.createCache() : undefined, context.shape[0]);
  }

  /** Feeds one token per row and returns the next-token logits [rows, V]. */
  step(state: DecoderState, tokens: Int32Array): tf.Tensor2D {
    if (tokens.length !== state.rows) throw new Error(`SentenceDecoder.step: expected ${state.rows} tokens, got ${tokens.length}`);
    state.history.forEach((h, r) => h.push(tokens[r]!));
    return tf.tidy(() => {
      const rows = state.rows;
      if (state.cache !== undefined) {
        const logits = this.logits(state.context, tf.tensor2d(tokens, [rows, 1], 'int32'), state.cache);
        return tf.reshape(logits, [rows, this.vocabSize]) as tf.Tensor2D;
      }
      const T = state.length;
      const ids = tf.tensor2d(Int32Array.from(state.history.flat()), [rows, T], 'int32');
      const logits = this.logits(state.context, ids);
      return tf.reshape(tf.slice(logits, [0, T - 1, 0], [rows, 1, this.vocabSize]), [rows, this.vocabSize]) as tf.Tensor2D;
    });
  }
}
