/** Real runs for the browser tests of the sweep views: a tiny pipeline trained by the real `pnpm exp run` (a child process). */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expCli, repoRoot } from './sweep.js';

const exec = promisify(execFile);

/** Ten short documents of three sentences: enough for the splits of a tokenizer, a SentenceVAE and an MSE head. */
export const TINY_DOCS = [
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

/** Training steps of each stage (one system-metrics row per step: logEvery 1). */
export const TINY_STEPS = 4;

/**
 * Trains `tok -> svae -> mse` (cpu, d = 16, 4 steps each) into `<runsDir>/tiny/`: a SentenceVAE
 * run and a Base-LCM run, each with system metrics and embeddings.json. Returns their run ids.
 */
export async function trainTinyRuns(dir: string, runsDir: string): Promise<{ svae: string; mse: string }> {
  writeFileSync(join(dir, 'docs.jsonl'), TINY_DOCS.map((text, i) => JSON.stringify({ id: `doc${i}`, text })).join('\n'));
  const train = `{steps: ${TINY_STEPS}, batchSize: 2, warmupSteps: 1, evalEvery: 1000, checkpointEvery: 1000, evalBatches: 1, logEvery: 1}`;
  const file = join(dir, 'tiny.yaml');
  writeFileSync(
    file,
    `name: tiny
backend: cpu
runsDir: ${runsDir}
data:
  source: {type: jsonl, paths: [${join(dir, 'docs.jsonl')}], textField: text, idField: id}
  tokenizer: {vocabSize: 300}
  segment: {mode: sentence, maxTokens: 24}
  split: {validation: 0.2, test: 0.2}
  output: {cacheDir: ${join(dir, 'datasets')}}
stages:
  tok: {kind: tokenizer}
  svae:
    kind: svae
    inputs: {tokenizer: tok}
    model: {dModel: 16, encoder: {layers: 1, heads: 2, dropout: 0}, decoder: {layers: 1, heads: 2, dropout: 0}}
    train: ${train}
    evalSentences: 8
    resamples: 20
  mse:
    kind: lcm-mse
    inputs: {tokenizer: tok, svae: svae}
    model: {dModel: 16, layers: 1, heads: 2, maxSentences: 3, dropout: 0}
    train: ${train}
    evalDocuments: 4
    roundTripSentences: 2
    resamples: 20
    brierSentences: 0
`,
  );
  const { stdout, stderr } = await exec(process.execPath, [...expCli, 'run', file, '--cache-dir', join(dir, 'cache')], { cwd: repoRoot });
  const runOf = (stage: string) => {
    const m = new RegExp(`^${stage}\\s+\\S+\\s+ran\\s+\\S+\\s+\\S*/(tiny/${stage}-[^/\\s]+)$`, 'm').exec(stdout);
    if (!m) throw new Error(`exp run printed no ${stage} run folder:\n${stdout}${stderr}`);
    return m[1]!;
  };
  return { svae: runOf('svae'), mse: runOf('mse') };
}
