import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '@sentencelab/data';
import { describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { executePipeline } from '../pipeline/execute.js';
import { tinyPipelineYaml } from '../testing/tiny-pipeline.js';
import { STAGES, stageRegistry } from './registry.js';

function pipeline(stages: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'exp-tokenizer-'));
  const file = join(dir, 'p.yaml');
  writeFileSync(
    file,
    tinyPipelineYaml({ name: 'units', runsDir: join(dir, 'runs'), cacheDir: join(dir, 'datasets'), segment: '{mode: sentence, maxTokens: 24}', split: null, stages }),
  );
  return file;
}

describe('tokenizer stage', () => {
  test('segment: replaces data.segment, so one pipeline prepares sentences and K-token chunks with one tokenizer', async () => {
    const file = pipeline('  tok: {kind: tokenizer}\n  tok-chunk4: {kind: tokenizer, segment: {mode: chunk, tokens: 4, maxTokens: 4}}\n');
    const results = await executePipeline(loadPipeline(file, STAGES).config, stageRegistry(), { overrides: [], cacheDir: join(file, '..', 'cache'), log: () => {} });
    const [sentence, chunk] = await Promise.all(results.map((r) => openDataset(r.artifact.meta['datasetDir'] as string)));
    expect(sentence!.manifest.config.segment).toMatchObject({ mode: 'sentence', maxTokens: 24, tokens: null });
    expect(chunk!.manifest.config.segment).toMatchObject({ mode: 'chunk', maxTokens: 4, tokens: 4 });
    expect(chunk!.stats.maxSentenceTokens).toBe(4);
    expect(chunk!.stats.sentences).toBeGreaterThan(sentence!.stats.sentences);
    const tokenizers = results.map((r) => readFileSync(join(r.artifact.dir, 'tokenizer.json'), 'utf8'));
    expect(tokenizers[0]).toBe(tokenizers[1]);
  });

  test('a bad segment: fails at config time, naming the stage key', () => {
    const file = pipeline('  tok: {kind: tokenizer, segment: {mode: chunk}}\n');
    expect(() => loadPipeline(file, STAGES)).toThrow(/stages\.tok\.segment\.tokens: mode chunk needs tokens: K/);
  });
});
