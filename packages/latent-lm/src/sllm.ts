import * as tf from '@tensorflow/tfjs-core';
import { Linear, Module, Rng, parseConfig } from '@sentencelab/tensor';
import {
  flattenSentences,
  decodeSentences,
  packSentences,
  scatterToSlots,
  SentenceVAE,
  type DecodeOptions,
  type SentenceBatchInput,
  type SentenceTokens,
} from '@sentencelab/sentence-vae';
import { sllmConfigSchema, type SllmConfig, type SllmConfigInput } from './config.js';
import { checkContextStart, sentenceSpanTokens, type DocumentScore, type DocumentSentences, type ScoreOptions } from './document.js';
import { LatentDecoder } from './latent-decoder.js';
import { readAndDispose } from './read.js';

/**
 * A [B, S, L] sentence batch (the data package's layout). `docSentences` (sentences in each
 * row's whole document) lets the stop head learn "document ends" at the last sentence of a
 * document; without it, the stop label of a window's last sentence is unknown and not trained.
 */
export interface SllmBatch extends SentenceBatchInput {
  windowStart?: ArrayLike<number>;
  docSentences?: ArrayLike<number>;
}

/**
 * `metrics`: counts are numbers; `tokenLoss`, `nll` (per token) and `stopLoss` are scalars left
 * on the device, each its own tensor (read with tensor's `readMetricValues`; the caller disposes).
 */
export type SllmLoss = {
  loss: tf.Scalar;
  metrics: { tokenLoss: tf.Scalar; nll: tf.Scalar; stopLoss: tf.Scalar; tokens: number; sentences: number; stopTargets: number };
};

export interface SllmGenerateOptions {
  /** Most sentences to generate (also bounded by the decoder's maxLen positions). */
  maxSentences?: number;
  /** Probability of "document ends" at or above which generation stops. */
  stopThreshold?: number;
  /** How each sentence is decoded (the SentenceVAE decoder's options). */
  decode?: DecodeOptions;
  /**
   * Token budget: at most this many SentenceVAE decoder steps in all (a sentence takes its
   * length + 1: its tokens and the step that ends it, EOS or cut). The last sentence is cut to
   * what is left. Default: no budget.
   */
  maxTokens?: number;
  /**
   * After every cache update, with the bytes all live KV caches hold then: the sentence-level
   * decoder's, plus, while a sentence is decoded, the SentenceVAE decoder's self- and
   * cross-attention caches. The first report is the sentence-level cache once the prompt is in it.
   */
  onCacheBytes?: (bytes: number) => void;
}

const END = 0;
const CONTINUE = 1;

/**
 * The Sentence-level LLM: each sentence -> one SentenceVAE vector; a causal decoder over the
 * sentence vectors; its hidden state at position i conditions the SentenceVAE decoder on
 * sentence i + 1, and a stop head predicts whether another sentence follows. Unlike the
 * published code the decoder IS causal, targets are aligned sentence by sentence, and generated
 * sentences are re-encoded exactly as training encodes them.
 * Parameters: `svae.*`, `decoder.*`, `memory.*` (when widths differ), `stop.*`.
 */
export class SLLM extends Module {
  readonly config: SllmConfig;
  readonly svae: SentenceVAE;
  readonly decoder: LatentDecoder;
  readonly memory: Linear | undefined;
  readonly stop: Linear;
  readonly rngs: { dropout: Rng; svaeDropout: Rng; svaeNoise: Rng };

  constructor(config: SllmConfigInput = {}) {
    super();
    const c = parseConfig(sllmConfigSchema, config, 'SLLM');
    this.config = c;
    this.svae = this.addModule('svae', new SentenceVAE(c.svae));
    const rng = new Rng(c.seed);
    const dv = c.svae.dModel;
    const d = c.decoder.dModel;
    this.decoder = this.addModule('decoder', new LatentDecoder({ config: c.decoder, inputDim: dv, rng }));
    if (d !== dv) this.memory = this.addModule('memory', new Linear({ inFeatures: d, outFeatures: dv, rng }));
    this.stop = this.addModule('stop', new Linear({ inFeatures: d, outFeatures: 2, rng }));
    this.rngs = { dropout: rng, svaeDropout: this.svae.rngs.dropout, svaeNoise: this.svae.rngs.noise };
    if (c.freezeSvae) this.setSvaeTrainable(false);
  }

  /** Freezes (false) or unfreezes (true) the SentenceVAE's parameters for training. */
  setSvaeTrainable(on: boolean): void {
    for (const v of this.svae.parameters()) v.trainable = on;
  }

  /** Decoder hidden state -> SentenceVAE decoder memory. h: [m, dModel] -> [m, dSvae]. */
  toMemory(h: tf.Tensor2D): tf.Tensor2D {
    return this.memory === undefined ? h : (this.memory.forward(h) as tf.Tensor2D);
  }

  /**
   * Sentence vectors on the document grid and the causal decoder over them.
   * Returns h: [B, S, dModel] (position i has seen sentences 0..i only).
   */
  hiddenStates(batch: SentenceBatchInput): tf.Tensor3D {
    const [B, S] = batch.shape;
    if (S > this.config.decoder.maxLen) throw new Error(`SLLM: ${S} sentences per row exceed decoder.maxLen ${this.config.decoder.maxLen}`);
    return tf.tidy(() => {
      const flat = flattenSentences(batch, { pad: this.config.svae.specialIds.pad });
      const vectors = this.svae.encoder.forward(flat);
      return this.decoder.forward(scatterToSlots(vectors, flat.slots, [B, S]));
    });
  }

  /**
   * `hiddenStates` after every decoder layer (each through the final norm, see
   * `LatentDecoder.layerStates`): layers tensors [B, S, dModel]; the last equals `hiddenStates`.
   */
  layerHiddenStates(batch: SentenceBatchInput): tf.Tensor3D[] {
    const [B, S] = batch.shape;
    if (S > this.config.decoder.maxLen) throw new Error(`SLLM: ${S} sentences per row exceed decoder.maxLen ${this.config.decoder.maxLen}`);
    return tf.tidy(() => {
      const flat = flattenSentences(batch, { pad: this.config.svae.specialIds.pad });
      const vectors = this.svae.encoder.forward(flat);
      return this.decoder.layerStates(scatterToSlots(vectors, flat.slots, [B, S]));
    });
  }

  /**
   * Training objective: mean token loss (config.loss: cross-entropy unless focal is asked for;
   * never the SentenceVAE's own loss) of every next sentence (sentence i + 1 decoded from
   * position i; the first sentence of a row is context only) + stopLossWeight x the stop head's
   * mean cross-entropy.
   */
  loss(batch: SllmBatch): SllmLoss {
    const [B, S] = batch.shape;
    const pairs = nextSentencePairs(batch);
    const stopT = stopTargets(batch);
    if (pairs.source.length === 0) throw new Error('SLLM.loss: the batch has no sentence with a following sentence (every row has < 2 sentences)');
    const targets: SentenceTokens = gatherSentences(batch, pairs.target);
    return tf.tidy((): SllmLoss => {
      const h = this.hiddenStates(batch);
      const d = this.config.decoder.dModel;
      const flatH = tf.reshape(h, [B * S, d]) as tf.Tensor2D;
      const memory = this.toMemory(tf.gather(flatH, tf.tensor1d(pairs.source, 'int32')) as tf.Tensor2D);
      const tok = this.svae.decoder.loss(memory, targets, { nll: true, loss: this.config.loss });
      const tokenLoss = tf.div(tok.sum, tok.count) as tf.Scalar;
      let stopLoss: tf.Scalar = tf.scalar(0);
      if (stopT.slots.length > 0) {
        const logits = this.stop.forward(tf.gather(flatH, tf.tensor1d(stopT.slots, 'int32'))) as tf.Tensor2D;
        const onehot = tf.oneHot(tf.tensor1d(stopT.labels, 'int32'), 2);
        stopLoss = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), 1))) as tf.Scalar;
      }
      const total = tf.add(tokenLoss, tf.mul(stopLoss, this.config.stopLossWeight)) as tf.Scalar;
      return {
        loss: total,
        metrics: {
          tokenLoss,
          nll: tf.div(tok.nll!, tok.count) as tf.Scalar,
          stopLoss,
          tokens: tok.count,
          sentences: pairs.source.length,
          stopTargets: stopT.slots.length,
        },
      };
    });
  }

  /**
   * Log-likelihood of sentences 1..N-1 of a document (each with its EOS): the same tokens the
   * token LM scores; sentence i is decoded from position i - 1's hidden state. Without
   * `contextStart`, documents longer than decoder.maxLen sentences are read in windows that
   * overlap by one sentence, so every sentence after the first is scored exactly once. With it,
   * each sentence is scored after exactly its context sentences (see {@link ScoreOptions}).
   * Each window's log-probs are read back asynchronously.
   */
  async scoreDocument(sentences: DocumentSentences, options: ScoreOptions = {}): Promise<DocumentScore> {
    const N = sentences.length;
    const W = this.config.decoder.maxLen;
    if (W < 2) throw new Error('SLLM.scoreDocument: decoder.maxLen must be >= 2');
    const rows: { context: number[][]; contextStart: number; target: number }[] = [];
    if (options.contextStart !== undefined) {
      checkContextStart(options.contextStart, N, 'SLLM.scoreDocument');
      options.contextStart.forEach((start, k) => {
        if (k + 1 - start > W) throw new Error(`SLLM.scoreDocument: sentence ${k + 1} has ${k + 1 - start} context sentences, decoder.maxLen is ${W}`);
        rows.push({ context: sentences.slice(start, k + 1).map((s) => Array.from(s)), contextStart: start, target: k + 1 });
      });
      const score: DocumentScore = { sentenceLogProbs: [], sentenceTokens: [], contextTokens: [], scoredIds: [] };
      for (let r0 = 0; r0 < rows.length; r0 += 16) await this.scoreRows(sentences, rows.slice(r0, r0 + 16), score);
      return score;
    }
    const score: DocumentScore = { sentenceLogProbs: [], sentenceTokens: [], contextTokens: [], scoredIds: [] };
    for (let start = 0; start < N - 1; start += W - 1) {
      const window = sentences.slice(start, Math.min(N, start + W)).map((s) => Array.from(s));
      // One row: the window's sentences 0..n-2 are the context of sentences 1..n-1.
      await this.scoreRows(sentences, [{ context: window.slice(0, -1), contextStart: start, target: start + window.length - 1 }], score, true);
    }
    return score;
  }

  /**
   * Scores rows of context sentences. Each row's hidden state at its last context sentence
   * decodes its target sentence; with `all`, every position j decodes the sentence after it
   * (one row holding a whole window: targets contextStart+1..target).
   */
  private async scoreRows(sentences: DocumentSentences, rows: { context: number[][]; contextStart: number; target: number }[], score: DocumentScore, all = false): Promise<void> {
    const pad = this.config.svae.specialIds.pad;
    const eos = this.config.svae.specialIds.eos;
    const S = Math.max(...rows.map((r) => r.context.length));
    const L = Math.max(1, ...rows.flatMap((r) => r.context.map((s) => s.length)));
    // Batch [R, S, L], rows right-padded with empty sentences (causal: they never reach a real position).
    const tokens = new Int32Array(rows.length * S * L).fill(pad);
    const lengths = new Int32Array(rows.length * S);
    const sources: number[] = [];
    const targetIds: number[][] = [];
    const contexts: number[] = [];
    rows.forEach((r, b) => {
      r.context.forEach((s, j) => {
        tokens.set(s, (b * S + j) * L);
        lengths[b * S + j] = s.length;
      });
      const n = r.context.length;
      for (let j = all ? 0 : n - 1; j < n; j++) {
        // The hidden state of context sentence j (document sentence contextStart + j) decodes sentence contextStart + j + 1.
        sources.push(b * S + j);
        targetIds.push(Array.from(sentences[r.contextStart + j + 1]!));
        contexts.push(sentenceSpanTokens(sentences, r.contextStart, r.contextStart + j + 1));
      }
    });
    const targets = packSentences(targetIds, { pad, maxLen: Math.max(1, ...targetIds.map((s) => s.length)) });
    const lp = this.inEval(() =>
      tf.tidy(() => {
        // h: [R, S, d] -> the source positions' states [m, d] -> memory [m, dSvae]
        const h = tf.reshape(this.hiddenStates({ tokens, lengths, shape: [rows.length, S, L] }), [rows.length * S, this.config.decoder.dModel]) as tf.Tensor2D;
        const memory = this.toMemory(tf.gather(h, tf.tensor1d(sources, 'int32')) as tf.Tensor2D);
        return tf.sum(this.svae.decoder.logProbs(memory, targets), 1);
      }),
    );
    const values = await readAndDispose(lp);
    targetIds.forEach((_, m) => {
      const len = targets.lengths[m]!;
      score.sentenceLogProbs.push(values[m]!);
      score.sentenceTokens.push(len + 1);
      score.contextTokens.push(contexts[m]!);
      score.scoredIds.push([...targets.tokens.subarray(m * targets.maxLen, m * targets.maxLen + len), eos]);
    });
  }

  /**
   * Streams generated sentences (token ids, EOS excluded) after a prompt of whole sentences.
   * Two KV caches: the sentence-level decoder's (one position per sentence) and, inside each
   * sentence, the SentenceVAE decoder's. Each generated sentence is re-encoded with the encoder
   * exactly as in training and appended as one new position; when the context reaches
   * decoder.maxLen sentences, the cache is rebuilt from the last maxLen / 2 (a sliding window).
   * Stops when the stop head's p(end) >= stopThreshold or at maxSentences.
   */
  async *generate(prompt: DocumentSentences, options: SllmGenerateOptions = {}): AsyncGenerator<number[]> {
    if (prompt.length === 0) throw new Error('SLLM.generate: the prompt needs at least one sentence');
    const maxSentences = options.maxSentences ?? 8;
    const threshold = options.stopThreshold ?? 0.5;
    const maxLen = this.config.decoder.maxLen;
    const window = Math.max(1, maxLen >> 1);
    const history = prompt.map((s) => Array.from(s));
    // A longer sentence could not be re-encoded as the next step's input (the SentenceVAE takes maxTokens).
    const sentenceMax = Math.min(options.decode?.maxTokens ?? Infinity, this.config.svae.maxTokens);
    let budget = options.maxTokens ?? Number.POSITIVE_INFINITY;
    const onBytes = options.onCacheBytes;
    const wasTraining = this.training;
    this.eval();
    let cache = this.decoder.createCache();
    try {
      let last = this.advance(history.length >= maxLen ? history.slice(-window) : history, cache);
      onBytes?.(cache.bytes());
      for (let produced = 0; produced < maxSentences && budget > 0; produced++) {
        const pEnd = (await readAndDispose(tf.tidy(() => tf.softmax(this.stop.forward(last)))))[END]!;
        if (pEnd >= threshold) break;
        const memory = tf.tidy(() => this.toMemory(last));
        // At most `budget` steps: maxTokens tokens + the step that ends or cuts the sentence.
        // Sentence k samples from seed + k: the same draws for every sentence would couple them.
        const decode = { ...options.decode, maxTokens: Math.min(sentenceMax, budget - 1), seed: (options.decode?.seed ?? 0) + produced };
        const sentenceBytes = cache.bytes();
        const decoded = await decodeSentences(this.svae.decoder, memory, decode, onBytes === undefined ? {} : { onCacheBytes: (b) => onBytes(sentenceBytes + b) });
        memory.dispose();
        const sentence = decoded.tokens[0]!;
        budget -= sentence.length + 1;
        yield sentence;
        // An empty sentence has no encoding the model was trained on: the document ends here.
        if (sentence.length === 0) break;
        history.push(sentence);
        last.dispose();
        if (cache.length >= maxLen) {
          // Sliding window: rebuild the sentence-level cache from the last maxLen / 2 sentences.
          cache.dispose();
          cache = this.decoder.createCache();
          last = this.advance(history.slice(-window), cache);
        } else {
          last = this.advance([sentence], cache);
        }
        onBytes?.(cache.bytes());
      }
      last.dispose();
    } finally {
      cache.dispose();
      this.train(wasTraining);
    }
  }

  /** Encodes sentences, feeds them through the cache, returns the last hidden state [1, dModel]. */
  private advance(sentences: number[][], cache: ReturnType<LatentDecoder['createCache']>): tf.Tensor2D {
    return tf.tidy(() => {
      const vectors = this.svae.encoder.forward(packSentences(sentences, { pad: this.config.svae.specialIds.pad }));
      const n = sentences.length;
      const h = this.decoder.forward(tf.reshape(vectors, [1, n, this.config.svae.dModel]) as tf.Tensor3D, { cache });
      return tf.reshape(tf.slice(h, [0, n - 1, 0], [1, 1, -1]), [1, this.config.decoder.dModel]) as tf.Tensor2D;
    });
  }

  /** Cached key/value bytes per sentence position of context (float32, every layer). */
  kvBytesPerSentence(): number {
    return this.decoder.kvBytesPerPosition();
  }

  /**
   * The SentenceVAE decoder's cache after `steps` decoding steps of one sentence: every layer's
   * self-attention k/v over `steps` positions plus its cross-attention k/v over the memory
   * slots (1 for a plain [1, d] memory), float32.
   */
  sentenceDecoderKvBytes(steps: number): number {
    const dec = this.svae.decoder;
    const slots = dec.memoryProjection === undefined ? 1 : dec.memorySlots;
    return this.config.svae.decoder.layers * 2 * this.config.svae.dModel * 4 * (steps + slots);
  }
}

/** Flat slots b*S+i of every position with a next sentence, and those next sentences' slots. */
export function nextSentencePairs(batch: SentenceBatchInput): { source: Int32Array; target: Int32Array } {
  const [B, S] = batch.shape;
  const source: number[] = [];
  const target: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let i = 0; i + 1 < S; i++) {
      if (batch.lengths[b * S + i]! > 0 && batch.lengths[b * S + i + 1]! > 0) {
        source.push(b * S + i);
        target.push(b * S + i + 1);
      }
    }
  }
  return { source: Int32Array.from(source), target: Int32Array.from(target) };
}

/**
 * Stop-head targets: CONTINUE at every real sentence followed by another in its row; END at a
 * row's last sentence when it is its document's last (known from docSentences + windowStart);
 * otherwise (the window was cut from a longer document, or no document lengths) no target.
 */
export function stopTargets(batch: SllmBatch): { slots: Int32Array; labels: Int32Array } {
  const [B, S] = batch.shape;
  const slots: number[] = [];
  const labels: number[] = [];
  for (let b = 0; b < B; b++) {
    let real = 0;
    while (real < S && batch.lengths[b * S + real]! > 0) real++;
    for (let i = 0; i < real; i++) {
      if (i + 1 < real) {
        slots.push(b * S + i);
        labels.push(CONTINUE);
      } else if (batch.docSentences !== undefined) {
        const start = batch.windowStart?.[b] ?? 0;
        if (start + real >= batch.docSentences[b]!) {
          slots.push(b * S + i);
          labels.push(END);
        }
      }
    }
  }
  return { slots: Int32Array.from(slots), labels: Int32Array.from(labels) };
}

/** The sentences at the given flat slots of a [B, S, L] batch, as a flat [n, L] batch. */
export function gatherSentences(batch: SentenceBatchInput, slots: Int32Array): SentenceTokens {
  const L = batch.shape[2];
  const tokens = new Int32Array(slots.length * L);
  const lengths = new Int32Array(slots.length);
  slots.forEach((slot, r) => {
    tokens.set(batch.tokens.subarray(slot * L, slot * L + L), r * L);
    lengths[r] = batch.lengths[slot]!;
  });
  return { tokens, lengths, n: slots.length, maxLen: L };
}
