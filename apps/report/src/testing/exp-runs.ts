/** Real runs for the browser tests of the sweep views: a tiny pipeline trained by the real `pnpm exp run` (a child process). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tinySvaeStage, writeThreeSentenceDocs, writeTinyPipelineFile } from '@sentencelab/exp/testing';
import { expCli, repoRoot } from './sweep.js';

const exec = promisify(execFile);

/** Training steps of each stage (one system-metrics row per step: train.logEvery defaults to 1). */
export const TINY_STEPS = 4;

/**
 * Trains `tok -> svae -> mse` (the shared tiny pipeline on its ten three-sentence documents:
 * cpu, d = 16, 4 steps each) into `<runsDir>/tiny/`: a SentenceVAE run and a Base-LCM run, each
 * with system metrics and embeddings.json. Returns their run ids.
 */
export async function trainTinyRuns(dir: string, runsDir: string): Promise<{ svae: string; mse: string }> {
  const stages = `  tok: {kind: tokenizer}
${tinySvaeStage({ steps: TINY_STEPS, evalEvery: 1000, checkpointEvery: 1000, dropout: 0 })}  mse:
    kind: lcm-mse
    inputs: {tokenizer: tok, svae: svae}
    model: {dModel: 16, layers: 1, heads: 2, maxSentences: 3, dropout: 0}
    train: {steps: ${TINY_STEPS}, batchSize: 2, warmupSteps: 1, evalEvery: 1000, checkpointEvery: 1000, evalBatches: 1}
    evalDocuments: 4
    roundTripSentences: 2
    resamples: 20
    brierSentences: 0
`;
  const file = writeTinyPipelineFile(dir, {
    runsDir,
    cacheDir: join(dir, 'datasets'),
    source: writeThreeSentenceDocs(dir),
    segment: '{mode: sentence, maxTokens: 24}',
    stages,
  });
  const { stdout, stderr } = await exec(process.execPath, [...expCli, 'run', file, '--cache-dir', join(dir, 'cache')], { cwd: repoRoot });
  const runOf = (stage: string) => {
    const m = new RegExp(`^${stage}\\s+\\S+\\s+ran\\s+\\S+\\s+\\S*/(tiny/${stage}-[^/\\s]+)$`, 'm').exec(stdout);
    if (!m) throw new Error(`exp run printed no ${stage} run folder:\n${stdout}${stderr}`);
    return m[1]!;
  };
  return { svae: runOf('svae'), mse: runOf('mse') };
}
