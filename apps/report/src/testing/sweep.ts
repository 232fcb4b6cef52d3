/** A sweep enqueued by the real `pnpm exp run --queue` (a child process), for the `--queue` tests. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, tinySvaeStage, writeTinyPipelineFile } from '@sentencelab/exp/testing';

const exec = promisify(execFile);
export { repoRoot };
/** `node` arguments that run `pnpm exp` from its sources. */
export const expCli = ['--conditions=source', '--import', 'tsx', join(repoRoot, 'apps', 'exp', 'src', 'cli.ts')];

/**
 * Writes `<dir>/tiny.yaml` (the exp command tests' tiny pipeline: a tokenizer and a small
 * SentenceVAE trained for `steps`, runs in `runsDir`), enqueues its sweep `seed=1,2` with
 * `--detach` (two points, nothing shared) and returns the sweep id.
 */
export async function enqueueSweep(dir: string, runsDir: string, url: string, steps: number): Promise<string> {
  const stages = `  tok: {kind: tokenizer}\n${tinySvaeStage({ steps, evalEvery: 1000, checkpointEvery: 1000 })}`;
  const file = writeTinyPipelineFile(dir, { runsDir, cacheDir: join(dir, 'datasets'), stages });
  const { stdout, stderr } = await exec(process.execPath, [...expCli, 'run', file, 'seed=1,2', '--queue', url, '--detach', '--cache-dir', join(dir, 'cache')], { cwd: repoRoot });
  const sweep = /^sweep (sw-\S+): 2 point/m.exec(stdout)?.[1];
  if (!sweep) throw new Error(`exp run --queue printed no sweep id:\n${stdout}${stderr}`);
  return sweep;
}
