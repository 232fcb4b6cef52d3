/**
 * A tiny token LM, SLLM and Base-LCM head (with its SentenceVAE) trained by the real `pnpm exp run` (child process, wasm backend,
 * seconds), and their continuations by the real `pnpm exp generate`: what the playground
 * tests hold the browser to.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeTinyPipelineFile } from '@sentencelab/exp/testing';
import { expCli, repoRoot } from './sweep.js';

const exec = promisify(execFile);

const DOCS = [
  'The meeting moved to Thursday. Please bring the budget sheet. Remember to water the plants.',
  'The cat sat on the mat. It purred in the sun. Then it fell asleep.',
  'Rain fell over the city. People opened umbrellas. The streets shone at night.',
  'A ship left at dawn. Sailors raised the sails. The wind carried them north.',
  'We baked bread today. The kitchen smelled warm. Everyone wanted a slice.',
  'The train was late again. We waited on the platform. It came at noon.',
  'She planted tomatoes in May. They grew tall by July. The harvest was good.',
  'The printer works again. Call me back soon. The line was busy.',
  'Snow covered the hills. Children built a snowman. It melted by Sunday.',
  'The library opens at nine. Bring your card. Books are due in two weeks.',
];

export interface PlaygroundRuns {
  runsDir: string;
  cacheDir: string;
  /** Run ids (`<experiment>/<run-id>`) by stage. */
  lm: string;
  sllm: string;
  /** A Base-LCM (lcm-mse) head over the `svae` stage's SentenceVAE. */
  mse: string;
}

/**
 * Trains the runs into `<dir>/runs` (artifacts in `<dir>/cache`) on the wasm backend, 2 steps
 * each (seconds): their text is noise, but noise the same seed must reproduce, and untrained
 * stop heads rarely end a document at once (trained ones on this corpus often do).
 */
export async function trainPlaygroundRuns(dir: string): Promise<PlaygroundRuns> {
  writeFileSync(join(dir, 'docs.jsonl'), DOCS.map((text, i) => JSON.stringify({ id: `d${i}`, text })).join('\n'));
  const train = `{steps: 2, batchSize: 2, lr: 0.01, warmupSteps: 1, evalEvery: 1000, checkpointEvery: 1000, evalBatches: 1}`;
  const file = writeTinyPipelineFile(dir, {
    name: 'play',
    backend: 'wasm',
    runsDir: join(dir, 'runs'),
    cacheDir: join(dir, 'data'),
    source: `{type: jsonl, paths: [${join(dir, 'docs.jsonl')}], textField: text, idField: id}`,
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
  mse:
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
  return { runsDir: join(dir, 'runs'), cacheDir, lm: runOf('lm'), sllm: runOf('sllm'), mse: runOf('mse') };
}

export interface GenerateArgs {
  prompt: string;
  temperature: number;
  maxSentences: number;
  seed: number;
}

/** The continuation `pnpm exp generate` prints after the prompt. */
export async function expGenerate(runs: PlaygroundRuns, run: string, o: GenerateArgs): Promise<string> {
  const args = ['generate', run, '--prompt', o.prompt, '--temperature', String(o.temperature), '--max-sentences', String(o.maxSentences), '--seed', String(o.seed)];
  const { stdout } = await exec(process.execPath, [...expCli, ...args, '--runs-dir', runs.runsDir, '--cache-dir', runs.cacheDir], { cwd: repoRoot });
  if (!stdout.startsWith(o.prompt) || !stdout.endsWith('\n')) throw new Error(`exp generate printed no prompt + continuation:\n${stdout}`);
  return stdout.slice(o.prompt.length, -1);
}
