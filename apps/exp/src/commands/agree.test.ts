import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { initBackend } from '@sentencelab/tensor';
import { loadPipeline } from '../config/pipeline.js';
import { stageRegistry } from '../stages/registry.js';
import { tinySvaeStage, writeTinyPipelineFile } from '../testing/tiny-pipeline.js';
import { agreeCommandAction, agreementOverrides, compareLosses, dataFingerprint, type SavedLosses } from './agree.js';

const dir = mkdtempSync(join(tmpdir(), 'exp-agree-test-'));
afterAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('exp agree', () => {
  test('compares per step relative to max(1, |reference|): a NaN or a missing stage never agrees', () => {
    const rows = compareLosses({ a: [2, 1.5, 0.5], b: [80, 79], c: [1], d: [3] }, { a: [2, 1.5015, 0.5004], b: [80.004, 79], c: [Number.NaN] });
    expect(rows.map((r) => [r.stage, r.step])).toEqual([['a', 2], ['b', 1], ['c', 1], ['d', 0]]);
    expect(rows[0]!.worst).toBeCloseTo(0.0015 / 1.5, 10); // step 2: 0.0015 of 1.5; step 3: 0.0004 of max(1, 0.5) is smaller
    expect(rows[1]!.worst).toBeCloseTo(0.004 / 80, 10);
    expect(rows[2]!.worst).toBe(Number.POSITIVE_INFINITY);
    expect(rows[3]!.worst).toBe(Number.POSITIVE_INFINITY);
  });

  test('the data fingerprint follows the counts and the vocabulary, not where the files lie', () => {
    const stats = (path: string, tokens: number) => ({ source: `jsonl ${path}`, documents: 5, tokens, splits: { train: { tokens } }, tokenizer: { vocabSize: 300, origin: `trained on 3 documents (${path}/tokenizer.json)` } });
    expect(dataFingerprint([stats('/work/a', 900)])).toBe(dataFingerprint([stats('/tmp/b', 900)]));
    expect(dataFingerprint([stats('/work/a', 900)])).not.toBe(dataFingerprint([stats('/work/a', 901)]));
    expect(dataFingerprint([{ ...stats('/a', 900), tokenizer: { vocabSize: 512 } }])).not.toBe(dataFingerprint([stats('/a', 900)]));
  });

  test('cuts every training stage of the quickstart to N steps, warmup at most half of them; the others are untouched', () => {
    const registry = stageRegistry();
    const { config } = loadPipeline(join(__dirname, '..', '..', '..', '..', 'configs', 'quickstart.yaml'), [...registry.values()]);
    const o = agreementOverrides(config, registry, 20);
    expect(o.filter((x) => x.endsWith('.train.steps=20')).map((x) => x.split('.')[1])).toEqual(['lm', 'svae', 'sllm', 'mse', 'diffusion']);
    expect(o).toContain('stages.lm.train.warmupSteps=10'); // 20 in the config
    expect(o).toContain('stages.svae.train.logEvery=1');
    expect(o.some((x) => x.startsWith('stages.eval.') || x.startsWith('stages.tok.'))).toBe(false);
  });

  test('cpu and native train a tiny pipeline alike; saved losses serve as the reference later, for the same data only', async () => {
    const file = writeTinyPipelineFile(dir, {
      runsDir: join(dir, 'runs'),
      cacheDir: join(dir, 'datasets'),
      stages: `  tok: {kind: tokenizer}\n${tinySvaeStage({ steps: 3, dropout: 0 })}  ev: {kind: eval, inputs: {tokenizer: tok, models: [svae]}, documents: 1}\n`,
    });
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const saved = join(dir, 'losses.json');
      expect(await agreeCommandAction(file, [], { backends: ['cpu', 'native'], steps: 3, tolerance: 1e-3, save: saved })).toBe(0);
      const table = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(table).toContain('native against cpu: training loss over the first 3 steps');
      expect(table).toMatch(/svae +\d+\.\d{5} +\d+\.\d{5} .* yes/);
      const runs = JSON.parse(readFileSync(saved, 'utf8')) as SavedLosses[];
      expect(runs.map((r) => r.backend)).toEqual(['cpu', 'native']);
      expect(Object.keys(runs[0]!.losses)).toEqual(['svae']); // the eval stage trains nothing: left out
      expect(runs[0]!.losses['svae']!.every((v) => Number.isFinite(v))).toBe(true);
      // The cpu losses as a reference file, native compared with it (a machine without cpu time to spare).
      const ref = join(dir, 'cpu.json');
      writeFileSync(ref, JSON.stringify(runs[0]));
      expect(await agreeCommandAction(file, [], { backends: ['native'], steps: 3, tolerance: 1e-3, reference: ref })).toBe(0);
      // A tolerance nothing meets fails; a reference of other data or steps is refused, naming why.
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ ...runs[0], losses: { svae: runs[0]!.losses['svae']!.map((v) => v + 0.5) } }));
      expect(await agreeCommandAction(file, [], { backends: ['native'], steps: 3, tolerance: 1e-3, reference: bad })).toBe(1);
      writeFileSync(bad, JSON.stringify({ ...runs[0], data: 'feedfacefeedface' }));
      await expect(agreeCommandAction(file, [], { backends: ['native'], steps: 3, tolerance: 1e-3, reference: bad })).rejects.toThrow(/differ from the data of --reference .* \(feedfacefeedface\)/);
      await expect(agreeCommandAction(file, [], { backends: ['native'], steps: 2, tolerance: 1e-3, reference: ref })).rejects.toThrow('has 3 steps, --steps asks for 2');
      await expect(agreeCommandAction(file, ['stages.svae.train.lr=0.5'], { backends: ['native'], steps: 3, tolerance: 1e-3, reference: ref })).rejects.toThrow('was saved for tiny.yaml , not tiny.yaml stages.svae.train.lr=0.5');
      // The two-backend file itself serves too (its first run is the reference); a file of anything else is refused.
      expect(await agreeCommandAction(file, [], { backends: ['native'], steps: 3, tolerance: 1e-3, reference: saved })).toBe(0);
      writeFileSync(bad, JSON.stringify({ loss: 1 }));
      await expect(agreeCommandAction(file, [], { backends: ['native'], steps: 3, tolerance: 1e-3, reference: bad })).rejects.toThrow('is not a file written by exp agree --save');
      // Where the prepared data are kept does not matter.
      expect(await agreeCommandAction(file, [`data.output.cacheDir=${join(dir, 'datasets')}`], { backends: ['native'], steps: 3, tolerance: 1e-3, reference: ref })).toBe(0);
      // Nor does the GPU's adapter or kernel choice: that is what is compared (native ignores it).
      expect(await agreeCommandAction(file, ['gpu.matmul=vec128'], { backends: ['native'], steps: 3, tolerance: 1e-3, reference: ref })).toBe(0);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  }, 120_000);
});
