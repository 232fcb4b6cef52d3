/**
 * A run's model in the browser: its checkpoint and tokenizer (downloaded and checked) turned
 * into the project's own TokenLM or SLLM, and text generated exactly as `pnpm exp generate`
 * does for that kind (apps/exp stages/latent.ts: same prompt segmentation, same options, each
 * sentence as " " + its text); the browser test holds the two to the same output.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conceptHeadFromCheckpoint, conceptLens, diffusionChoiceGiven, DiffusionLcm, hasLens, headGenerateOptions, type ConceptModel, type DiffusionChoice, type HeadChoices } from '@sentencelab/concept-heads';
import { ByteLevelTokenizer, segmentUnits } from '@sentencelab/data/browser';
import { sentenceLens, SLLM, TokenLM, tokenF1, type SllmConfig, type TokenLmConfig } from '@sentencelab/latent-lm';
import { decodeOptionsFrom, SentenceVAE, textCodec, type SentenceVaeConfig } from '@sentencelab/sentence-vae';
import { CheckpointError, decodeCheckpoint, decodeSafetensors, fromStoredTensor, type LoadedCheckpoint } from '@sentencelab/tensor';
import type { PlaygroundInfo } from '../shared/playground.js';
import type { RunFileBytes } from './playground-files.js';
import { sha256Hex } from './playground-sha256.js';

/** A concept head and the SentenceVAE that decodes its vectors. */
export interface HeadModel {
  head: ConceptModel;
  svae: SentenceVAE;
}

export interface LoadedRun {
  info: PlaygroundInfo;
  model: TokenLM | SLLM | HeadModel;
  tokenizer: ByteLevelTokenizer;
  /** Parameters of the model (numbers, not bytes). */
  params: number;
  dispose(): void;
}

/**
 * The options of `pnpm exp generate` (its defaults in the page's fields). The concept head's
 * choices left out keep the run's trained config, as the flags do.
 */
export interface GenerateSettings extends HeadChoices {
  /** Most tokens per sentence. */
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
}

/** The page's name for each diffusion sampler choice (its field's label; `exp generate`'s flag says the same). */
export const DIFFUSION_CHOICE_LABELS: Record<DiffusionChoice, string> = {
  guidance: 'guidance',
  initialNoise: 'initial noise',
  samplingSteps: 'sampling steps',
  eta: 'eta',
};

export interface GenerateEvents {
  /** The continuation so far (the tail may be a sentence still being written). */
  onText(text: string): void;
  /**
   * Tokens produced so far (EOS / end-of-sentence steps included) and the bytes the KV caches
   * hold now; for a concept head, sentences produced and null (it keeps no KV cache).
   */
  onStats(count: number, kvBytes: number | null): void;
}

function isHead(m: LoadedRun['model']): m is HeadModel {
  return !(m instanceof TokenLM) && !(m instanceof SLLM);
}

/** A checkpoint from checked file bytes, its data-section checksum verified as loadCheckpoint does in Node. */
async function checkpointOf(bytes: Uint8Array, label: string): Promise<LoadedCheckpoint> {
  const decoded = decodeSafetensors(bytes, label);
  const expected = decoded.metadata['sha256'];
  if (expected === undefined) throw new CheckpointError(label, 'metadata "sha256" is missing');
  const actual = await sha256Hex(decoded.data);
  if (actual !== expected) throw new CheckpointError(label, `corrupted: sha256 of the data section does not match the header (checksum mismatch: ${actual} vs ${expected})`);
  return decodeCheckpoint(decoded, label);
}

/** A TokenLM, SLLM or SentenceVAE from its checkpoint (as exp's loadModel + constructor + loadParameters). */
function withParameters<M extends TokenLM | SLLM | SentenceVAE>(model: M, checkpoint: LoadedCheckpoint): M {
  const params = new Map([...checkpoint.params].map(([name, t]) => [name, fromStoredTensor(t)]));
  try {
    model.loadParameters(params);
  } finally {
    tf.dispose([...params.values()]);
  }
  model.eval();
  return model;
}

/** Builds the model from checked file bytes on the active backend. */
export async function loadRun(info: PlaygroundInfo, files: RunFileBytes): Promise<LoadedRun> {
  const checkpoint = await checkpointOf(files.checkpoint, `${info.run}: ${info.files.checkpoint.name}`);
  const tokenizer = ByteLevelTokenizer.parse(new TextDecoder().decode(files.tokenizer), info.specials, `${info.run}: ${info.files.tokenizer.name}`);
  let model: LoadedRun['model'];
  if (info.kind === 'token-lm') model = withParameters(new TokenLM(checkpoint.config as TokenLmConfig), checkpoint);
  else if (info.kind === 'sllm') model = withParameters(new SLLM(checkpoint.config as SllmConfig), checkpoint);
  else {
    if (files.svae === undefined || info.files.svae === undefined) throw new Error(`${info.run}: a concept head needs its SentenceVAE`);
    const svaeCheckpoint = await checkpointOf(files.svae, `${info.run}: svae ${info.files.svae.name}`);
    const svae = withParameters(new SentenceVAE(svaeCheckpoint.config as SentenceVaeConfig), svaeCheckpoint);
    model = { head: conceptHeadFromCheckpoint(checkpoint, `${info.run}: ${info.files.checkpoint.name}`), svae };
  }
  const m = model;
  const params = isHead(m) ? m.head.numParams() + m.svae.numParams() : m.numParams();
  const dispose = () => (isHead(m) ? (m.head.dispose(), m.svae.dispose()) : m.dispose());
  return { info, model: m, tokenizer, params, dispose };
}

/** The prompt's sentences, segmented as the run's dataset was (exp's promptSentences). */
export function promptSentences(run: LoadedRun, prompt: string): string[] {
  const sentences = segmentUnits(prompt, run.info.segment, run.tokenizer)
    .map((u) => u.text)
    .filter((t) => t.trim().length > 0);
  if (sentences.length === 0) throw new Error('the prompt has no sentences');
  return sentences;
}

/**
 * Streams the continuation of `prompt`: the token LM token by token, the SLLM sentence by
 * sentence. Returns the whole continuation, as `pnpm exp generate` prints it after the prompt.
 */
export async function generate(run: LoadedRun, prompt: string, s: GenerateSettings, events: GenerateEvents): Promise<string> {
  const sentences = promptSentences(run, prompt);
  // Each sentence's tokens, as in exp generate: the token LM's, the SLLM's and a head's vectors alike.
  const decode = decodeOptionsFrom(s);
  if (isHead(run.model)) {
    // As exp's generateFromHead: the head's sampling with the choices given, a seed per sentence; its vectors decoded with `decode`.
    const given = diffusionChoiceGiven(s);
    if (given !== undefined && !(run.model.head instanceof DiffusionLcm)) {
      throw new Error(`${DIFFUSION_CHOICE_LABELS[given]} applies to diffusion heads (lcm-diffusion) only; ${run.info.run} is a ${run.info.kind} head (clear the field)`);
    }
    let text = '';
    let n = 0;
    for await (const g of run.model.head.generate(textCodec(run.model.svae, run.tokenizer, decode), sentences, headGenerateOptions(s))) {
      text += ` ${g.text}`;
      events.onText(text);
      events.onStats(++n, null);
    }
    return text;
  }
  const ids = sentences.map((t) => run.tokenizer.encodeSync(t));
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
    const options = { ...decode, maxSentences: s.maxSentences, maxTokens: s.maxTokens * s.maxSentences, onToken, onCacheBytes };
    for await (const sentence of run.model.generate(ids, options)) {
      text += ` ${tok.decodeSync(sentence)}`;
      events.onText(text);
    }
    return text;
  }
  for await (const sentence of run.model.generate(ids, { maxSentences: s.maxSentences, decode, onCacheBytes })) {
    // Its tokens and the step that ended it (EOS or the cut), as the SLLM's budget counts them.
    tokens += sentence.length + 1;
    text += ` ${tok.decodeSync(sentence)}`;
    events.onText(text);
    events.onStats(tokens, kv);
  }
  return text;
}

/** One cell of SentenceLens: a layer's prediction at a sentence position, decoded, and its scores against the true next sentence. */
export interface LensCellView {
  text: string;
  /** Cosine to the true next sentence's SentenceVAE vector; null at the last position. */
  cosine: number | null;
  /** Token-overlap F1 of the decoded text with the true next sentence; null at the last position. */
  f1: number | null;
}

/** What `pnpm exp lens --json` prints: the sentences read, the true next ones, cells[layer][position]. */
export interface LensView {
  sentences: string[];
  /** Sentences of the prompt past the model's window, not read. */
  droppedSentences: number;
  targets: (string | null)[];
  cells: LensCellView[][];
}

/** Why a run's model has no SentenceLens (undefined when it has one: the SLLM, Base-LCM and energy heads, as `exp lens`). */
export function lensUnavailable(run: LoadedRun): string | undefined {
  if (run.model instanceof SLLM) return undefined;
  if (run.model instanceof TokenLM) return 'a token LM has no sentence states to decode';
  if (hasLens(run.model.head)) return undefined;
  return "only Base-LCM (lcm-mse) and energy (lcm-energy) heads have a lens: a diffusion head's layers denoise, they hold no prediction";
}

/**
 * SentenceLens over the prompt's first sentences (as many as the model reads), each layer's
 * state decoded greedily to `maxTokens` a sentence: what `pnpm exp lens` computes (apps/exp
 * stages/latent.ts and lcm.ts), the browser test holding the two to the same grid.
 */
export async function lens(run: LoadedRun, prompt: string, maxTokens: number): Promise<LensView> {
  const all = promptSentences(run, prompt);
  const tok = run.tokenizer;
  const view = (sentences: string[], cells: LensCellView[][]): LensView => ({
    sentences,
    droppedSentences: all.length - sentences.length,
    targets: sentences.map((_, i) => sentences[i + 1] ?? null),
    cells,
  });
  if (run.model instanceof SLLM) {
    const sentences = all.slice(0, run.model.config.decoder.maxLen);
    const grid = await sentenceLens(run.model, sentences.map((t) => tok.encodeSync(t)), { maxTokens });
    return view(sentences, grid.cells.map((row) => row.map((c) => ({ text: tok.decodeSync(c.tokens), cosine: c.cosine, f1: c.f1 }))));
  }
  if (isHead(run.model) && hasLens(run.model.head)) {
    const { head, svae } = run.model;
    const sentences = all.slice(0, head.maxContext);
    // An energy head's cells from one noise draw of its config seed, as exp lens draws them.
    const grid = await conceptLens(head, textCodec(svae, tok, { maxTokens }), sentences);
    return view(
      sentences,
      grid.cells.map((row) =>
        row.map((c, i) => {
          const target = grid.targets[i];
          return { text: c.text, cosine: c.cosine, f1: target === null || target === undefined ? null : tokenF1(tok.encodeSync(c.text), tok.encodeSync(target)) };
        }),
      ),
    );
  }
  throw new Error(`${run.info.run}: ${lensUnavailable(run)}`);
}
