/** A sweep enqueued by the real `pnpm exp run --queue` (a child process), for the `--queue` tests. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');
/** `node` arguments that run `pnpm exp` from its sources. */
export const expCli = ['--conditions=source', '--import', 'tsx', join(repoRoot, 'apps', 'exp', 'src', 'cli.ts')];

/**
 * Writes `<dir>/tiny.yaml` (the exp command tests' tiny pipeline: a tokenizer and a small
 * SentenceVAE trained for `steps`, runs in `runsDir`), enqueues its sweep `seed=1,2` with
 * `--detach` (two points, nothing shared) and returns the sweep id.
 */
export async function enqueueSweep(dir: string, runsDir: string, url: string, steps: number): Promise<string> {
  const file = join(dir, 'tiny.yaml');
  writeFileSync(
    file,
    `name: tiny
backend: cpu
runsDir: ${runsDir}
data:
  source: {type: jsonl, paths: [${join(repoRoot, 'datasets/tiny.jsonl')}], textField: text, idField: id}
  tokenizer: {vocabSize: 300}
  segment: {mode: clause, maxTokens: 24}
  split: {validation: 0.2, test: 0.2}
  output: {cacheDir: ${join(dir, 'datasets')}}
stages:
  tok: {kind: tokenizer}
  svae:
    kind: svae
    inputs: {tokenizer: tok}
    model: {dModel: 16, encoder: {layers: 1, heads: 2, dropout: 0.1}, decoder: {layers: 1, heads: 2, dropout: 0.1}}
    train: {steps: ${steps}, batchSize: 2, warmupSteps: 1, evalEvery: 1000, checkpointEvery: 1000, evalBatches: 1}
    evalSentences: 4
`,
  );
  const { stdout, stderr } = await exec(process.execPath, [...expCli, 'run', file, 'seed=1,2', '--queue', url, '--detach', '--cache-dir', join(dir, 'cache')], { cwd: repoRoot });
  const sweep = /^sweep (sw-\S+): 2 point/m.exec(stdout)?.[1];
  if (!sweep) throw new Error(`exp run --queue printed no sweep id:\n${stdout}${stderr}`);
  return sweep;
}
