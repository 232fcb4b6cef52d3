import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SLLM, type SllmConfig } from '@sentencelab/latent-lm';
import { initBackend } from '@sentencelab/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { executePipeline } from '../pipeline/execute.js';
import { loadData } from '../stages/dataset.js';
import { STAGES, stageRegistry } from '../stages/registry.js';
import { loadModel } from '../train/fit.js';
import { repoRoot, tinyHeadStage, tinyPipelineYaml, TINY_ENERGY, writeThreeSentenceDocs } from '../testing/tiny-pipeline.js';
import { generateAction } from './generate.js';
import { lensAction, renderLens } from './lens.js';

const exec = promisify(execFile);
const cli = join(__dirname, '..', 'cli.ts');
const text = 'The meeting moved to Thursday. Please bring the budget sheet. Remember to water the plants.';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('exp lens', () => {
  test('tiny trained SLLM and Base-LCM runs: the output layer is what generate decodes, and the CLI prints the grid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-lens-'));
    const file = join(dir, 'tiny.yaml');
    const source = writeThreeSentenceDocs(dir);
    writeFileSync(
      file,
      tinyPipelineYaml({
        runsDir: join(dir, 'runs'),
        cacheDir: join(dir, 'data'),
        source,
        segment: '{mode: sentence, maxTokens: 48}',
        stages: `  tok: {kind: tokenizer}
  sllm:
    kind: sllm
    inputs: {tokenizer: tok}
    model: {svae: {dModel: 16, encoder: {layers: 1, heads: 2, dropout: 0}, decoder: {layers: 1, heads: 2, dropout: 0}}, decoder: {dModel: 16, layers: 2, heads: 2, maxLen: 2}}
    train: {steps: 2, batchSize: 2, warmupSteps: 1, evalBatches: 1}
  svae:
    kind: svae
    inputs: {tokenizer: tok}
    model: {dModel: 16, encoder: {layers: 1, heads: 2, dropout: 0}, decoder: {layers: 1, heads: 2, dropout: 0}}
    train: {steps: 2, batchSize: 2, warmupSteps: 1, evalBatches: 1}
    evalSentences: 4
  mse:
    kind: lcm-mse
    inputs: {tokenizer: tok, svae: svae}
    model: {dModel: 16, layers: 2, heads: 2, maxSentences: 3, dropout: 0}
    train: {steps: 2, batchSize: 2, warmupSteps: 1, evalBatches: 1}
    evalDocuments: 2
    roundTripSentences: 2
${tinyHeadStage('energy', 'lcm-energy', { model: TINY_ENERGY })}`,
      }),
    );
    const cacheDir = join(dir, 'cache');
    const reports = await executePipeline(loadPipeline(file, STAGES).config, stageRegistry(), { overrides: [], cacheDir, log: () => {} });
    const run = reports.find((r) => r.name === 'sllm')!.artifact.runDir!;

    const view = await lensAction(run, { text, maxTokens: 6, cacheDir });
    // decoder.maxLen 2: two of the three sentences are read.
    expect(view.sentences).toEqual(['The meeting moved to Thursday.', 'Please bring the budget sheet.']);
    expect(view.droppedSentences).toBe(1);
    expect(view.targets).toEqual(['Please bring the budget sheet.', null]);
    expect(view.cells).toHaveLength(2);
    for (const c of view.cells.flat()) {
      if (c.cosine !== null) expect(Math.abs(c.cosine)).toBeLessThanOrEqual(1 + 1e-6);
      if (c.f1 !== null) expect(c.f1 >= 0 && c.f1 <= 1).toBe(true);
    }
    // The output layer at each position is the greedy continuation the checkpoint generates after
    // the sentences up to it (the stop head, which `exp generate` also obeys, is overridden here).
    const artifact = reports.find((r) => r.name === 'sllm')!.artifact;
    const { params, config } = loadModel<SllmConfig>(artifact.dir);
    const model = new SLLM(config);
    model.loadParameters(params);
    tf.dispose([...params.values()]);
    const tok = (await loadData(String(artifact.meta['datasetDir']))).dataset.tokenizer;
    for (let i = 0; i < 2; i++) {
      const prompt = view.sentences.slice(0, i + 1).map((s) => tok.encodeSync(s));
      const out: number[][] = [];
      for await (const s of model.generate(prompt, { maxSentences: 1, stopThreshold: 1.01, decode: { maxTokens: 6 } })) out.push(s);
      expect(view.cells[1]![i]!.text).toBe(tok.decodeSync(out[0]!));
    }
    model.dispose();

    const lines = renderLens(view, 100);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    expect(lines).toHaveLength(4 + 2 * 2 + 1);

    const { stdout } = await exec(process.execPath, ['--conditions=source', '--import', 'tsx', cli, 'lens', run, '--text', text, '--max-tokens', '6', '--width', '100', '--cache-dir', cacheDir], { cwd: repoRoot });
    expect(stdout.trimEnd().split('\n')).toEqual(lines);

    // A Base-LCM head: maxSentences 3 reads 2 sentences; its output layer is what it generates
    // (this untrained head's prediction is far from the end sentence, so generate does not stop).
    const mse = reports.find((r) => r.name === 'mse')!.artifact;
    const head = await lensAction(mse.runDir!, { text, maxTokens: 6, cacheDir });
    expect(head.sentences).toEqual(view.sentences);
    expect(head.cells).toHaveLength(2);
    expect(head.cells[0]![0]!.f1).not.toBeNull();
    const continuation = await generateAction(mse.runDir!, { prompt: view.sentences[0]!, maxSentences: 1, maxTokens: 6, temperature: 0, topP: 1, seed: 0, runsDir: '', cacheDir }, () => {});
    expect(` ${head.cells[1]![0]!.text}`).toBe(continuation);
    // The energy head: one noise draw of its config seed for every cell; the output layer is what generate samples first at that seed.
    const energy = reports.find((r) => r.name === 'energy')!.artifact;
    const sampled = await lensAction(energy.runDir!, { text, maxTokens: 6, cacheDir });
    expect(sampled.cells).toHaveLength(2);
    const seed = (energy.meta['config'] as { seed: number }).seed;
    for (let i = 0; i < 2; i++) {
      const first = await generateAction(energy.runDir!, { prompt: view.sentences.slice(0, i + 1).join(' '), maxSentences: 1, maxTokens: 6, temperature: 0, topP: 1, seed, runsDir: '', cacheDir }, () => {});
      expect(` ${sampled.cells[1]![i]!.text}`).toBe(first);
    }
    await expect(lensAction(reports.find((r) => r.name === 'svae')!.artifact.runDir!, { text, maxTokens: 6, cacheDir })).rejects.toThrow(/a svae stage does not have a SentenceLens/);
  }, 180_000);
});
