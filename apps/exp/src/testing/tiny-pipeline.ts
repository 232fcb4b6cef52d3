/**
 * A tiny pipeline for the command tests: a tokenizer and a small SentenceVAE on the committed
 * `datasets/tiny.jsonl` fixture, on the cpu backend (seconds to train).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');

/** Writes `<dir>/tiny.yaml` (runs in `<dir>/runs`, prepared data in `datasets`) and returns its path. */
export function tinyPipeline(dir: string, datasets: string, steps = 4, train = ''): string {
  const file = join(dir, 'tiny.yaml');
  writeFileSync(
    file,
    `name: tiny
backend: cpu
runsDir: ${join(dir, 'runs')}
data:
  source: {type: jsonl, paths: [${join(repoRoot, 'datasets/tiny.jsonl')}], textField: text, idField: id}
  tokenizer: {vocabSize: 300}
  segment: {mode: clause, maxTokens: 24}
  split: {validation: 0.2, test: 0.2}
  output: {cacheDir: ${datasets}}
stages:
  tok: {kind: tokenizer}
  svae:
    kind: svae
    inputs: {tokenizer: tok}
    model: {dModel: 16, encoder: {layers: 1, heads: 2, dropout: 0.1}, decoder: {layers: 1, heads: 2, dropout: 0.1}}
    train: {steps: ${steps}, batchSize: 2, warmupSteps: 1, evalEvery: 2, checkpointEvery: 2, evalBatches: 1${train}}
    evalSentences: 4
`,
  );
  return file;
}
