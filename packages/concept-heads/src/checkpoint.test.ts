import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Linear, Module, Rng, saveCheckpoint } from '@sentencelab/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaseLcm } from './base-lcm.js';
import { createConceptHead, loadConceptHead, saveConceptHead } from './checkpoint.js';
import { fitConceptSpace } from './concepts.js';
import { fixture, tinyConfig, type Fixture } from './testing/fixture.js';

let f: Fixture;
let dir: string;
beforeAll(async () => {
  await initBackend('cpu', { log: false });
  f = await fixture();
  dir = mkdtempSync(join(tmpdir(), 'concept-heads-ckpt-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('concept-head checkpoints', () => {
  it('restore config, parameters, normaliser, end vector and the training RNG', async () => {
    const space = await fitConceptSpace(f.codec, f.vectors, { normalizer: 'standard', endSentence: 'The end.' });
    const model = new BaseLcm({ ...tinyConfig, layers: 1, normalizer: 'standard', endSentence: 'The end.', stopThreshold: 0.8 }, space);
    model.rng.uniform();
    const file = join(dir, 'base.safetensors');
    await saveConceptHead(file, model, { step: 7, extra: { bestLoss: 1.5 } });
    const { model: again, checkpoint } = loadConceptHead(file);
    expect(checkpoint.step).toBe(7);
    expect(checkpoint.extra.bestLoss).toBe(1.5);
    expect(again).toBeInstanceOf(BaseLcm);
    expect(again.config).toEqual(model.config);
    expect(Array.from(again.normalizer.center)).toEqual(Array.from(model.normalizer.center));
    expect(Array.from(again.normalizer.scale)).toEqual(Array.from(model.normalizer.scale));
    expect(Array.from(again.endVector)).toEqual(Array.from(model.endVector));
    expect(again.rng.getState()).toEqual(model.rng.getState());
    const ctx = f.vectors[0]!.slice(0, 2);
    expect(Array.from(await again.predictNext(ctx))).toEqual(Array.from(await model.predictNext(ctx)));
    model.dispose();
    again.dispose();
  });

  it('name the file and the reason when a checkpoint is not a concept head', async () => {
    class Plain extends Module {
      readonly l = this.addModule('l', new Linear({ inFeatures: 2, outFeatures: 2, rng: new Rng(1) }));
    }
    const plain = new Plain();
    const file = join(dir, 'plain.safetensors');
    await saveCheckpoint(file, { model: plain, step: 0, config: { kind: 'base-lcm' } });
    expect(() => loadConceptHead(file)).toThrow(/plain.safetensors: not a concept head: conceptSpace must be/);
    plain.dispose();
    expect(() => createConceptHead({ kind: 'two-tower', denoiserLayerz: 2 }, f.space)).toThrow(/invalid concept-head config: \(root\): Unrecognized key: "denoiserLayerz"/);
    expect(() => createConceptHead({ kind: 'base-lcm', dEmb: 16, normalizer: 'none' }, f.space)).toThrow(/config.normalizer is "none" but the concept space's normaliser is "robust"/);
  });
});
