/**
 * `pnpm bench generation [--backend auto] [--sentences 6] [--length 8] [--prompts 3] [--d-model 64] [--vocab 512]`
 *
 * A token LM and an SLLM of comparable parameter counts, side by side in one process on one
 * backend (float32, batch 1, greedy): generation tokens/s with and without the first generated
 * sentence (whose time includes the prompt's prefill; the SentenceVAE paper excludes it),
 * sentences/s, KV-cache bytes per context token (analytical from the cached tensors' shapes and
 * measured as the slope of live tensor bytes vs context length), peak tensor bytes of one
 * generation, and parameters.
 *
 * The models are randomly initialised (nothing is trained: speed and memory do not depend on
 * the weights), so neither would end its sentences by itself. Both are made to write
 * sentences of exactly `length + 1` tokens, each token one decoder step:
 * - token LM: greedy with EOS masked for `length` tokens, then EOS (the EOS step is counted);
 * - SLLM: the SentenceVAE decoder's EOS logit is pushed to -1e4 and each sentence is cut after
 *   `length` tokens: step `length` would have been its EOS and is its cut (the stop head is
 *   disabled with stopThreshold > 1). A sentence counts for its `length` tokens + that step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendChoice } from '@sentencelab/tensor';
import { documentStream, SLLM, TokenLM, type SllmGenerateOptions } from '@sentencelab/latent-lm';
import {
  analyticalKvBytesPerToken, countParams, measureGeneration, measureKvBytesPerPosition, peakTensorBytes, rssBytes,
  type Document, type GenerationSpeed, type KvSlope, type SentenceGenerator,
} from '@sentencelab/metrics';
import { machineInfo, printTable, type BenchFigure, type BenchResult } from '../result.js';
import { options } from '../options.js';

export const usage = `pnpm bench generation [options]
  Generation speed and KV-cache memory of a token LM and an SLLM of comparable size, one backend.
  --backend NAME    auto, native, wasm, cpu, webgpu (default auto)
  --sentences N     sentences generated per prompt (default 6)
  --length N        tokens per sentence, EOS excluded (default 8)
  --prompts N       prompts timed (default 3)
  --d-model N       model width (default 64)
  --vocab N         vocabulary size (default 512)`;

interface Args {
  backend: BackendChoice;
  sentences: number;
  length: number;
  prompts: number;
  dModel: number;
  vocab: number;
}

function parseArgs(args: string[]): Args {
  const out: Args = { backend: 'auto', sentences: 6, length: 8, prompts: 3, dModel: 64, vocab: 512 };
  for (const o of options('generation', args)) {
    if (o.name === '--backend') out.backend = o.value() as BackendChoice;
    else if (o.name === '--sentences') out.sentences = o.count();
    else if (o.name === '--length') out.length = o.count();
    else if (o.name === '--prompts') out.prompts = o.count();
    else if (o.name === '--d-model') out.dModel = o.count();
    else if (o.name === '--vocab') out.vocab = o.count();
    else o.unknown();
  }
  return out;
}

/** The token LM writing sentences of exactly `length` tokens + EOS, greedy, KV-cached. */
class FixedLengthTokenLM implements SentenceGenerator<{ maxSentences: number }> {
  constructor(
    readonly lm: TokenLM,
    readonly length: number,
  ) {}

  async *generate(prompt: Document, { maxSentences }: { maxSentences: number }): AsyncGenerator<number[]> {
    const { bos, eos } = this.lm.config.specialIds;
    const cache = this.lm.decoder.createCache();
    try {
      let logits = await this.lastLogits(documentStream(prompt, bos, eos).stream, cache);
      for (let s = 0; s < maxSentences; s++) {
        const sentence: number[] = [];
        for (let k = 0; k <= this.length; k++) {
          const next = k === this.length ? eos : argmaxExcept(logits, eos);
          if (next !== eos) sentence.push(next);
          logits = await this.lastLogits(Int32Array.of(next), cache);
        }
        yield sentence;
      }
    } finally {
      cache.dispose();
    }
  }

  // ids: [n] -> logits of the last position [vocab], read asynchronously (webgpu has no sync read)
  private async lastLogits(ids: Int32Array, cache: ReturnType<TokenLM['decoder']['createCache']>): Promise<Float32Array> {
    const last = tf.tidy(() => {
      const logits = this.lm.logits(tf.tensor2d(ids, [1, ids.length], 'int32'), cache);
      return tf.slice(logits, [0, ids.length - 1, 0], [1, 1, this.lm.config.vocabSize]);
    });
    try {
      return (await last.data()) as Float32Array;
    } finally {
      last.dispose();
    }
  }
}

function argmaxExcept(x: Float32Array, skip: number): number {
  let best = -1;
  for (let i = 0; i < x.length; i++) if (i !== skip && (best < 0 || x[i]! > x[best]!)) best = i;
  return best;
}

/** Pushes the SentenceVAE decoder's EOS logit to -1e4, so an untrained SLLM writes sentences until cut. */
export async function maskSllmEos(sllm: SLLM): Promise<void> {
  const eos = sllm.config.svae.specialIds.eos;
  const headBias = sllm.parameterMap().get('svae.decoder.head.bias');
  if (headBias === undefined) throw new Error('generation: the SLLM has no svae.decoder.head.bias to mask EOS with (tieOutput must be false)');
  const bias = (await headBias.data()).slice();
  bias[eos] = -1e4;
  const t = tf.tensor1d(bias);
  headBias.assign(t);
  t.dispose();
}

/**
 * SLLM options for `sentences` sentences of `length` tokens (EOS masked): each is cut after
 * `length` tokens, at the decoder step that would have been its EOS, so it takes `length + 1`
 * steps, what the default `tokensOf` (`s.length + 1`) counts.
 */
export function sllmFixedLength(sentences: number, length: number): SllmGenerateOptions {
  return { maxSentences: sentences, stopThreshold: 1.01, decode: { maxTokens: length } };
}

interface Measured {
  system: string;
  params: number;
  speed: GenerationSpeed;
  kv: number;
  kvMeasured: KvSlope;
  tokensPerPosition: number;
  peakBytes: number;
}

export async function run(argv: string[]): Promise<BenchResult> {
  const a = parseArgs(argv);
  const info = await initBackend(a.backend);
  const L = a.length;
  const d = a.dModel;
  // Prompts: `context` sentences of L tokens each (ids from 3 up: 0..2 are PAD/BOS/EOS).
  const context = 2;
  const prompts: Document[] = Array.from({ length: a.prompts }, (_, p) =>
    Array.from({ length: context }, (_, s) => Array.from({ length: L }, (_, t) => 3 + ((p * 31 + s * 7 + t * 13) % (a.vocab - 3)))),
  );
  const tokenCapacity = (context + a.sentences) * (L + 1) + 1;
  // The KV slope needs several context lengths: the positions reach 128 whatever the sizes asked for.
  const tokenMaxLen = Math.max(tokenCapacity, 128);
  const tokenSlopeLengths = [16, 32, 64, 128].filter((n) => n <= tokenMaxLen);
  const tokenLm = new TokenLM({ vocabSize: a.vocab, decoder: { dModel: d, layers: 5, heads: 4, maxLen: tokenMaxLen } });
  const sllm = new SLLM({
    svae: { vocabSize: a.vocab, dModel: d, maxTokens: L, encoder: { layers: 1, heads: 4, dropout: 0 }, decoder: { layers: 1, heads: 4, dropout: 0 } },
    decoder: { dModel: d, layers: 2, heads: 4, maxLen: Math.max(context + a.sentences + 1, 32) },
  });
  await maskSllmEos(sllm);
  tokenLm.eval();
  sllm.eval();

  const results: Measured[] = [];
  try {
    const tokenGen = new FixedLengthTokenLM(tokenLm, L);
    const tokenOpts = { maxSentences: a.sentences };
    const tokenSpeed = await measureGeneration(tokenGen, prompts, { generateOptions: tokenOpts, warmup: 1 });
    const tokenPeak = await peakTensorBytes(async () => {
      for await (const _ of tokenGen.generate(prompts[0]!, tokenOpts));
    });
    results.push({
      system: 'token-lm',
      params: countParams(tokenLm).total,
      speed: tokenSpeed.batch1,
      kv: analyticalKvBytesPerToken(tokenLm),
      kvMeasured: measureKvBytesPerPosition((n) => {
        const cache = tokenLm.decoder.createCache();
        tf.tidy(() => {
          tokenLm.logits(tf.tensor2d(Int32Array.from({ length: n }, (_, i) => 3 + (i % (a.vocab - 3))), [1, n], 'int32'), cache);
        });
        return cache;
      }, tokenSlopeLengths),
      tokensPerPosition: 1,
      peakBytes: tokenPeak.peakBytes,
    });

    const sllmOpts = sllmFixedLength(a.sentences, L);
    const sllmSpeed = await measureGeneration(sllm, prompts, { generateOptions: sllmOpts, warmup: 1 });
    const sllmPeak = await peakTensorBytes(async () => {
      for await (const _ of sllm.generate(prompts[0]!, sllmOpts));
    });
    const tokensPerSentence = L + 1;
    const sllmSlope = measureKvBytesPerPosition((n) => {
      const cache = sllm.decoder.createCache();
      tf.tidy(() => {
        sllm.decoder.forward(tf.randomNormal([1, n, d]) as tf.Tensor3D, { cache });
      });
      return cache;
    }, [4, 8, 16, 32]);
    results.push({
      system: 'sllm',
      params: countParams(sllm).total,
      speed: sllmSpeed.batch1,
      kv: analyticalKvBytesPerToken(sllm, tokensPerSentence),
      kvMeasured: sllmSlope,
      tokensPerPosition: tokensPerSentence,
      peakBytes: sllmPeak.peakBytes,
    });
  } finally {
    tokenLm.dispose();
    sllm.dispose();
  }

  console.log(`backend ${info.backend}; float32; batch 1; greedy; random init; ${a.prompts} prompts x ${a.sentences} sentences of ${L + 1} tokens`);
  printTable(
    ['system', 'params', 'tokens', 'tok/s', 'tok/s excl first', 'sent/s', 'KV B/token', 'KV B/token measured', 'slope r2', 'peak tensor MB'],
    results.map((r) => [
      r.system,
      r.params,
      r.speed.tokens,
      r.speed.tokensPerS,
      r.speed.tokensPerSExclFirst,
      r.speed.sentencesPerS,
      r.kv,
      r.kvMeasured.slope / r.tokensPerPosition,
      r.kvMeasured.r2,
      r.peakBytes / 2 ** 20,
    ]),
  );
  const figures: BenchFigure[] = results.flatMap((r) => [
    { system: r.system, metric: 'params', value: r.params },
    { system: r.system, metric: 'generated_tokens', value: r.speed.tokens },
    { system: r.system, metric: 'tokens_per_s', value: r.speed.tokensPerS },
    { system: r.system, metric: 'tokens_per_s_excl_first', value: r.speed.tokensPerSExclFirst },
    { system: r.system, metric: 'sentences_per_s', value: r.speed.sentencesPerS },
    { system: r.system, metric: 'kv_bytes_per_token', value: r.kv },
    { system: r.system, metric: 'kv_bytes_per_token_measured', value: r.kvMeasured.slope / r.tokensPerPosition },
    { system: r.system, metric: 'peak_tensor_bytes', value: r.peakBytes },
  ]);
  figures.push({ system: 'process', metric: 'rss_bytes', value: rssBytes() });
  return {
    bench: 'generation',
    machine: machineInfo(),
    config: { ...a, backend: info.backend, context_sentences: context, tokens_per_sentence: L + 1, init: 'random', dtype: 'float32', batch: 1 },
    results: figures,
  };
}
