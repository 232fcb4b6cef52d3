import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, Embedding, init, Linear, Module, Rng, type StackCache, parseConfig } from '@sentencelab/tensor';
import { argmax, sampleToken, targetLogProbs } from '@sentencelab/sentence-vae';
import { tokenLmConfigSchema, type TokenLmConfig, type TokenLmConfigInput } from './config.js';
import { checkContextStart, documentStream, sentenceSpanTokens, type DocumentScore, type DocumentSentences, type ScoreOptions } from './document.js';
import { LatentDecoder } from './latent-decoder.js';
import { readAndDispose } from './read.js';

/** The target id the loss skips (a target whose mask is 0). */
const IGNORE = -1;

/** A token-window batch (the data package's layout): input/target/mask [batch * seqLen]. */
export interface TokenLmBatch {
  input: Int32Array;
  target: Int32Array;
  /** 1 = score this target. */
  mask: Uint8Array;
  shape: readonly [number, number];
}

export type TokenLmLoss = {
  loss: tf.Scalar;
  /** Scored targets in the batch. */
  metrics: { tokens: number };
};

export interface TokenGenerateOptions {
  /** Stop after this many sentences (EOS-terminated). */
  maxSentences?: number;
  /** Stop after this many generated tokens in all (default maxSentences x decoder.maxLen). */
  maxTokens?: number;
  strategy?: 'greedy' | 'sample';
  temperature?: number;
  topP?: number;
  seed?: number;
  /** After every cache update (prefill, each step, each rebuild), with the bytes the KV cache holds then: first once the prompt is in it. */
  onCacheBytes?: (bytes: number) => void;
  /** After each generated token (EOS included), before its sentence is yielded: streams text token by token. */
  onToken?: (id: number) => void;
  /** Whether the prompt starts its document (a BOS before it, as in training). Default true. */
  documentStart?: boolean;
}

/**
 * The token-by-token baseline: token embeddings -> causal decoder -> vocabulary logits.
 * Parameters: `embed.weight`, `decoder.*`, `head.*` (untied).
 */
export class TokenLM extends Module {
  readonly config: TokenLmConfig;
  readonly embed: Embedding;
  readonly decoder: LatentDecoder;
  readonly head: Linear | undefined;
  readonly rngs: { dropout: Rng };

  constructor(config: TokenLmConfigInput = {}) {
    super();
    const c = parseConfig(tokenLmConfigSchema, config, 'token LM');
    this.config = c;
    const rng = new Rng(c.seed);
    const d = c.decoder.dModel;
    this.embed = this.addModule('embed', new Embedding({ numEmbeddings: c.vocabSize, dim: d, init: init.normal(0.02), rng }));
    this.decoder = this.addModule('decoder', new LatentDecoder({ config: c.decoder, inputDim: d, rng }));
    if (!c.tieOutput) this.head = this.addModule('head', new Linear({ inFeatures: d, outFeatures: c.vocabSize, rng }));
    this.rngs = { dropout: rng };
  }

  get specialIds(): TokenLmConfig['specialIds'] {
    return this.config.specialIds;
  }

  /** ids: int32 [B, T] (positions offset.. with a cache) -> logits [B, T, V]. */
  logits(ids: tf.Tensor2D, cache?: StackCache): tf.Tensor3D {
    return tf.tidy(() => {
      const h = this.decoder.forward(this.embed.forward(ids) as tf.Tensor3D, { cache });
      return (this.head === undefined ? this.embed.project(h) : this.head.forward(h)) as tf.Tensor3D;
    });
  }

  /** log p(target_t | input_<=t) of every position: ids, targets int32 [B, T] -> [B, T]. */
  logProbs(ids: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [B, T] = ids.shape;
      const logits = tf.reshape(this.logits(ids), [B * T, this.config.vocabSize]) as tf.Tensor2D;
      return tf.reshape(targetLogProbs(logits, tf.reshape(targets, [B * T]) as tf.Tensor1D), [B, T]) as tf.Tensor2D;
    });
  }

  /** Mean cross-entropy over the masked targets of a token-window batch. */
  loss(batch: TokenLmBatch): TokenLmLoss {
    const [B, T] = batch.shape;
    if (batch.input.length !== B * T || batch.target.length !== B * T || batch.mask.length !== B * T) {
      throw new Error(`TokenLM.loss: input/target/mask must have ${B}x${T} values`);
    }
    let tokens = 0;
    for (const m of batch.mask) tokens += m;
    // Unscored targets are ignored by the fused cross-entropy (its mean is over the scored ones;
    // no [B * T, V] one-hot or log-softmax kept for the backward pass).
    const target = Int32Array.from(batch.target, (t, i) => (batch.mask[i] === 0 ? IGNORE : t));
    const loss = tf.tidy(() => {
      const logits = this.logits(tf.tensor2d(batch.input, [B, T], 'int32'));
      return crossEntropy(logits, tf.tensor2d(target, [B, T], 'int32'), IGNORE);
    });
    return { loss, metrics: { tokens } };
  }

  /**
   * Log-likelihood of sentences 1..N-1 (each with its EOS) of a document, read from the stream
   * `[BOS, s0, EOS, s1, EOS, ...]`. Without `contextStart`, streams longer than maxLen are
   * scored in windows that overlap by half (each target scored once, by the first window that
   * reaches it), so every scored token sees at least maxLen / 2 tokens of context. With it,
   * each sentence is scored in its own row after exactly its context sentences (see
   * {@link ScoreOptions}). Each window's log-probs are read back asynchronously.
   */
  async scoreDocument(sentences: DocumentSentences, options: ScoreOptions = {}): Promise<DocumentScore> {
    if (options.contextStart !== undefined) return this.scoreWithContext(sentences, options.contextStart);
    const { bos, eos } = this.config.specialIds;
    const { stream, sentenceOf } = documentStream(sentences, bos, eos);
    const N = sentences.length;
    const scored = Math.max(N - 1, 0);
    const score: DocumentScore = {
      sentenceLogProbs: new Array<number>(scored).fill(0),
      sentenceTokens: sentences.slice(1).map((s) => s.length + 1),
      contextTokens: new Array<number>(scored).fill(0),
      scoredIds: Array.from({ length: scored }, () => []),
    };
    const T = this.config.decoder.maxLen;
    const stride = Math.max(1, T >> 1);
    // Window w feeds stream[start, start + len) and scores targets at positions (from, start + len].
    let from = 0;
    while (from < stream.length - 1) {
      const end = Math.min(stream.length - 1, from === 0 ? T : from + stride);
      const start = Math.max(0, end - T);
      const len = end - start;
      const input = stream.subarray(start, end);
      const target = stream.subarray(start + 1, end + 1);
      const logProbs = this.inEval(() => tf.tidy(() => this.logProbs(tf.tensor2d(input, [1, len], 'int32'), tf.tensor2d(target, [1, len], 'int32'))));
      const lp = await readAndDispose(logProbs);
      for (let p = from + 1; p <= end; p++) {
        const s = sentenceOf[p]!;
        if (s < 1) continue;
        const ids = score.scoredIds[s - 1]!;
        // The sentence's first token: the stream positions this window shows before it (the BOS not counted).
        if (ids.length === 0) score.contextTokens[s - 1] = p - Math.max(start, 1);
        ids.push(target[p - 1 - start]!);
        score.sentenceLogProbs[s - 1]! += lp[p - 1 - start]!;
      }
      from = end;
    }
    return score;
  }

  /** One row per scored sentence i: [BOS when the context starts the document] s_start EOS .. s_{i-1} EOS s_i EOS. */
  private async scoreWithContext(sentences: DocumentSentences, contextStart: readonly number[]): Promise<DocumentScore> {
    const N = sentences.length;
    checkContextStart(contextStart, N, 'TokenLM.scoreDocument');
    const { bos, eos, pad } = this.config.specialIds;
    const T = this.config.decoder.maxLen;
    const score: DocumentScore = { sentenceLogProbs: [], sentenceTokens: [], contextTokens: [], scoredIds: [] };
    const rows = contextStart.map((start, k) => {
      const i = k + 1;
      const row = documentStream(sentences.slice(start, i + 1), bos, eos).stream;
      // The stream's BOS marks a document start: a context cut from the middle has none, as in training windows.
      const ids = start === 0 ? row : row.subarray(1);
      if (ids.length - 1 > T) {
        throw new Error(`TokenLM.scoreDocument: sentence ${i} with its context (sentences ${start}..${i - 1}) needs ${ids.length - 1} positions, decoder.maxLen is ${T}; give it less context`);
      }
      return { ids, scored: sentences[i]!.length + 1, context: sentenceSpanTokens(sentences, start, i) };
    });
    const chunk = 16;
    for (let r0 = 0; r0 < rows.length; r0 += chunk) {
      const group = rows.slice(r0, r0 + chunk);
      const len = Math.max(...group.map((r) => r.ids.length - 1));
      // input/target: [rows, len], right-padded (causal attention: padding never reaches a real position).
      const input = new Int32Array(group.length * len).fill(pad);
      const target = new Int32Array(group.length * len).fill(pad);
      group.forEach((r, b) => {
        input.set(r.ids.subarray(0, r.ids.length - 1), b * len);
        target.set(r.ids.subarray(1), b * len);
      });
      const logProbs = this.inEval(() => tf.tidy(() => this.logProbs(tf.tensor2d(input, [group.length, len], 'int32'), tf.tensor2d(target, [group.length, len], 'int32'))));
      const lp = await readAndDispose(logProbs);
      group.forEach((r, b) => {
        // The sentence's targets are the row's last `scored` positions.
        const first = b * len + r.ids.length - 1 - r.scored;
        let sum = 0;
        for (let t = first; t < first + r.scored; t++) sum += lp[t]!;
        score.sentenceLogProbs.push(sum);
        score.sentenceTokens.push(r.scored);
        score.contextTokens.push(r.context);
        score.scoredIds.push(Array.from(target.subarray(first, first + r.scored)));
      });
    }
    return score;
  }

  /**
   * Streams generated sentences (token ids, EOS excluded) after a prompt of whole sentences,
   * with a KV cache: the prompt is prefilled once, then one token per step. When the context
   * reaches maxLen positions, the cache is rebuilt from the last maxLen / 2 tokens (a sliding
   * window), so prompts and continuations of any length work. Stops after maxSentences EOS or
   * maxTokens tokens (default maxSentences x maxLen).
   */
  async *generate(prompt: DocumentSentences, options: TokenGenerateOptions = {}): AsyncGenerator<number[]> {
    const { bos, eos } = this.config.specialIds;
    const maxSentences = options.maxSentences ?? 8;
    const maxLen = this.config.decoder.maxLen;
    const maxTokens = options.maxTokens ?? maxSentences * maxLen;
    const window = Math.max(1, maxLen >> 1);
    const rng = new Rng(options.seed ?? 0);
    const stream = Array.from(documentStream(prompt, bos, eos).stream);
    // A prompt cut from the middle of a document has no BOS, as in the training windows.
    const history = options.documentStart === false ? stream.slice(1) : stream;
    let cache = this.decoder.createCache();
    const wasTraining = this.training;
    this.eval();
    try {
      let logits = await this.lastLogits(Int32Array.from(history.length >= maxLen ? history.slice(-window) : history), cache, options.onCacheBytes);
      let sentence: number[] = [];
      let produced = 0;
      let sentences = 0;
      while (sentences < maxSentences && produced < maxTokens) {
        const next =
          options.strategy === 'sample'
            ? sampleToken(logits, { temperature: options.temperature ?? 1, topP: options.topP ?? 1 }, () => rng.uniform())
            : argmax(logits);
        produced++;
        history.push(next);
        options.onToken?.(next);
        if (next === eos) {
          yield sentence;
          sentence = [];
          sentences++;
        } else {
          sentence.push(next);
        }
        if (sentences >= maxSentences || produced >= maxTokens) break;
        if (cache.length >= maxLen) {
          cache.dispose();
          cache = this.decoder.createCache();
          logits = await this.lastLogits(Int32Array.from(history.slice(-window)), cache, options.onCacheBytes);
        } else {
          logits = await this.lastLogits(Int32Array.of(next), cache, options.onCacheBytes);
        }
      }
      if (sentence.length > 0) yield sentence;
    } finally {
      cache.dispose();
      this.train(wasTraining);
    }
  }

  /** Feeds `ids` through the cache and returns the last position's logits (read asynchronously). */
  private async lastLogits(ids: Int32Array, cache: StackCache, onCacheBytes?: (bytes: number) => void): Promise<Float32Array> {
    const last = tf.tidy(() => {
      const logits = this.logits(tf.tensor2d(ids, [1, ids.length], 'int32'), cache);
      onCacheBytes?.(cache.bytes());
      return tf.slice(logits, [0, ids.length - 1, 0], [1, 1, this.config.vocabSize]);
    });
    return (await readAndDispose(last)) as Float32Array;
  }

  /** Cached key/value bytes per token of context (float32, every layer). */
  kvBytesPerToken(): number {
    return this.decoder.kvBytesPerPosition();
  }
}
