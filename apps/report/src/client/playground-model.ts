/**
 * A run's model in the browser: its checkpoint and tokenizer (downloaded and checked) turned
 * into the project's own TokenLM or SLLM, and text generated exactly as `pnpm exp generate`
 * does for that kind (apps/exp stages/latent.ts: same prompt segmentation, same options, each
 * sentence as " " + its text); the browser test holds the two to the same output.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ByteLevelTokenizer, segmentUnits } from '@sentencelab/data/browser';
import { SLLM, TokenLM, type SllmConfig, type TokenLmConfig } from '@sentencelab/latent-lm';
import { CheckpointError, decodeCheckpoint, decodeSafetensors, fromStoredTensor } from '@sentencelab/tensor';
import type { FileRole, PlaygroundInfo, PlaygroundKind } from '../shared/playground.js';
import { sha256Hex } from './playground-sha256.js';

export interface LoadedRun {
  info: PlaygroundInfo;
  model: TokenLM | SLLM;
  tokenizer: ByteLevelTokenizer;
  /** Parameters of the model (numbers, not bytes). */
  params: number;
  dispose(): void;
}

/** The options of `pnpm exp generate` (its defaults in the page's fields). */
export interface GenerateSettings {
  maxSentences: number;
  /** Most tokens per sentence. */
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  seed: number;
}

export interface GenerateEvents {
  /** The continuation so far (the tail may be a sentence still being written). */
  onText(text: string): void;
  /** Tokens produced so far (EOS / end-of-sentence steps included) and the bytes the KV caches hold now. */
  onStats(tokens: number, kvBytes: number): void;
}

/** Builds the model from checked file bytes on the active backend. */
export async function loadRun(info: PlaygroundInfo, files: Record<FileRole, Uint8Array>): Promise<LoadedRun> {
  const label = `${info.run}: ${info.files.checkpoint.name}`;
  const decoded = decodeSafetensors(files.checkpoint, label);
  // The checkpoint's own checksum of its data section, as loadCheckpoint verifies it in Node.
  const expected = decoded.metadata['sha256'];
  if (expected === undefined) throw new CheckpointError(label, 'metadata "sha256" is missing');
  const actual = await sha256Hex(decoded.data);
  if (actual !== expected) throw new CheckpointError(label, `corrupted: sha256 of the data section does not match the header (checksum mismatch: ${actual} vs ${expected})`);
  const checkpoint = decodeCheckpoint(decoded, label);
  const tokenizer = ByteLevelTokenizer.parse(new TextDecoder().decode(files.tokenizer), info.specials, `${info.run}: ${info.files.tokenizer.name}`);
  const model = build(info.kind, checkpoint.config);
  const params = new Map([...checkpoint.params].map(([name, t]) => [name, fromStoredTensor(t)]));
  try {
    model.loadParameters(params);
  } finally {
    tf.dispose([...params.values()]);
  }
  model.eval();
  return { info, model, tokenizer, params: model.numParams(), dispose: () => model.dispose() };
}

function build(kind: PlaygroundKind, config: unknown): TokenLM | SLLM {
  return kind === 'token-lm' ? new TokenLM(config as TokenLmConfig) : new SLLM(config as SllmConfig);
}

/** Token ids of each prompt sentence, segmented as the run's dataset was (exp's promptSentences). */
export function promptIds(run: LoadedRun, prompt: string): number[][] {
  const sentences = segmentUnits(prompt, run.info.segment, run.tokenizer)
    .map((u) => u.text)
    .filter((t) => t.trim().length > 0);
  if (sentences.length === 0) throw new Error('the prompt has no sentences');
  return sentences.map((s) => run.tokenizer.encodeSync(s));
}

/**
 * Streams the continuation of `prompt`: the token LM token by token, the SLLM sentence by
 * sentence. Returns the whole continuation, as `pnpm exp generate` prints it after the prompt.
 */
export async function generate(run: LoadedRun, prompt: string, s: GenerateSettings, events: GenerateEvents): Promise<string> {
  const ids = promptIds(run, prompt);
  const strategy = s.temperature > 0 ? ('sample' as const) : ('greedy' as const);
  const tok = run.tokenizer;
  let text = '';
  let tokens = 0;
  let kv = 0;
  const onCacheBytes = (bytes: number) => {
    kv = bytes;
    events.onStats(tokens, kv);
  };
  if (run.model instanceof TokenLM) {
    const eos = run.model.config.specialIds.eos;
    let current: number[] = [];
    const onToken = (id: number) => {
      tokens++;
      if (id === eos) current = [];
      else {
        current.push(id);
        events.onText(`${text} ${tok.decodeSync(current)}`);
      }
      events.onStats(tokens, kv);
    };
    const options = { maxSentences: s.maxSentences, maxTokens: s.maxTokens * s.maxSentences, strategy, temperature: s.temperature, topP: s.topP, seed: s.seed, onToken, onCacheBytes };
    for await (const sentence of run.model.generate(ids, options)) {
      text += ` ${tok.decodeSync(sentence)}`;
      events.onText(text);
    }
    return text;
  }
  const decode = { strategy, temperature: s.temperature, topP: s.topP, maxTokens: s.maxTokens, seed: s.seed };
  for await (const sentence of run.model.generate(ids, { maxSentences: s.maxSentences, decode, onCacheBytes })) {
    // Its tokens and the step that ended it (EOS or the cut), as the SLLM's budget counts them.
    tokens += sentence.length + 1;
    text += ` ${tok.decodeSync(sentence)}`;
    events.onText(text);
    events.onStats(tokens, kv);
  }
  return text;
}
