/**
 * A tiny token LM, SLLM, Base-LCM, two-tower diffusion and energy head (with their SentenceVAE) trained by the real `pnpm exp run` (child process, wasm backend,
 * seconds), and their continuations by the real `pnpm exp generate`: what the playground
 * tests hold the browser to.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tinyHeadStage, TINY_ENERGY, TINY_TWO_TOWER, writeThreeSentenceDocs, writeTinyPipelineFile } from '@sentencelab/exp/testing';
import type { LensView } from '../client/playground-model.js';
import { expCli, repoRoot } from './sweep.js';

const exec = promisify(execFile);


export interface PlaygroundRuns {
  runsDir: string;
  cacheDir: string;
  /** Run ids (`<experiment>/<run-id>`) by stage. */
  lm: string;
  sllm: string;
  /** A Base-LCM (lcm-mse) head over the `svae` stage's SentenceVAE (the newest head run). */
  mse: string;
  /** A two-tower diffusion head (lcm-diffusion) over the same SentenceVAE. */
  diffusion: string;
  /** CALM's energy head (lcm-energy) over the same SentenceVAE. */
  energy: string;
}

/**
 * Trains the runs into `<dir>/runs` (artifacts in `<dir>/cache`) on the wasm backend, 2 steps
 * each (seconds): their text is noise, but noise the same seed must reproduce, and untrained
 * stop heads rarely end a document at once (trained ones on this corpus often do).
 */
export async function trainPlaygroundRuns(dir: string): Promise<PlaygroundRuns> {
  const source = writeThreeSentenceDocs(dir);
  const train = `{steps: 2, batchSize: 2, lr: 0.01, warmupSteps: 1, evalEvery: 1000, checkpointEvery: 1000, evalBatches: 1}`;
  // The same training for the heads built by tinyHeadStage (2 steps, batch 2, warmup 1, one validation batch).
  const headTrain = ', lr: 0.01, evalEvery: 1000, checkpointEvery: 1000';
  const file = writeTinyPipelineFile(dir, {
    name: 'play',
    backend: 'wasm',
    runsDir: join(dir, 'runs'),
    cacheDir: join(dir, 'data'),
    source,
    segment: '{mode: sentence, maxTokens: 48}',
    stages: `  tok: {kind: tokenizer}
  lm:
    kind: token-lm
    inputs: {tokenizer: tok}
    model: {decoder: {dModel: 16, layers: 1, heads: 2, maxLen: 64}}
    train: ${train}
  sllm:
    kind: sllm
    inputs: {tokenizer: tok}
    model: {svae: {dModel: 16, encoder: {layers: 1, heads: 2, dropout: 0}, decoder: {layers: 1, heads: 2, dropout: 0}}, decoder: {dModel: 16, layers: 1, heads: 2, maxLen: 4}}
    train: ${train}
  svae:
    kind: svae
    inputs: {tokenizer: tok}
    model: {dModel: 16, encoder: {layers: 1, heads: 2, dropout: 0}, decoder: {layers: 1, heads: 2, dropout: 0}}
    train: ${train}
    evalSentences: 4
${tinyHeadStage('diffusion', 'lcm-diffusion', { model: TINY_TWO_TOWER, train: headTrain })}${tinyHeadStage('energy', 'lcm-energy', { model: TINY_ENERGY, train: headTrain })}  mse:
    kind: lcm-mse
    inputs: {tokenizer: tok, svae: svae}
    model: {dModel: 16, layers: 2, heads: 2, maxSentences: 3, dropout: 0}
    train: ${train}
    evalDocuments: 2
    roundTripSentences: 2
`,
  });
  const cacheDir = join(dir, 'cache');
  const { stdout } = await exec(process.execPath, [...expCli, 'run', file, '--cache-dir', cacheDir], { cwd: repoRoot });
  const runOf = (stage: string) => {
    // Its closing table: `<stage>  <kind>  ran  <seconds>  <run folder>`.
    const m = new RegExp(`^${stage} .*[/\\\\](play[/\\\\][^/\\\\\\s]+)$`, 'm').exec(stdout);
    if (!m) throw new Error(`exp run printed no run folder for stage ${stage}:\n${stdout}`);
    return m[1]!.replace(/\\/g, '/');
  };
  return { runsDir: join(dir, 'runs'), cacheDir, lm: runOf('lm'), sllm: runOf('sllm'), mse: runOf('mse'), diffusion: runOf('diffusion'), energy: runOf('energy') };
}

export interface GenerateArgs {
  prompt: string;
  temperature: number;
  maxSentences: number;
  seed: number;
  /** More flags, e.g. a diffusion head's `['--guidance', '1']`. */
  flags?: string[];
}

/** The continuation `pnpm exp generate` prints after the prompt. */
export async function expGenerate(runs: PlaygroundRuns, run: string, o: GenerateArgs): Promise<string> {
  const args = ['generate', run, '--prompt', o.prompt, '--temperature', String(o.temperature), '--max-sentences', String(o.maxSentences), '--seed', String(o.seed), ...(o.flags ?? [])];
  const { stdout } = await exec(process.execPath, [...expCli, ...args, '--runs-dir', runs.runsDir, '--cache-dir', runs.cacheDir], { cwd: repoRoot });
  if (!stdout.startsWith(o.prompt) || !stdout.endsWith('\n')) throw new Error(`exp generate printed no prompt + continuation:\n${stdout}`);
  return stdout.slice(o.prompt.length, -1);
}

/** `pnpm exp lens <run> --json`'s grid over `prompt`, `maxTokens` a cell. */
export async function expLens(runs: PlaygroundRuns, run: string, prompt: string, maxTokens: number): Promise<LensView> {
  const args = ['lens', run, '--text', prompt, '--max-tokens', String(maxTokens), '--json'];
  const { stdout } = await exec(process.execPath, [...expCli, ...args, '--runs-dir', runs.runsDir, '--cache-dir', runs.cacheDir], { cwd: repoRoot });
  return JSON.parse(stdout) as LensView;
}
