import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { BaseLcm } from './base-lcm.js';
import { EnergyLcm } from './energy-lcm.js';
import { cosine } from './evaluation.js';
import { conceptLens, hasLens } from './lens.js';
import { TwoTowerLcm } from './two-tower.js';
import { documents, fit, fixture, tinyConfig, trainingBatch, disposeBatch, type Fixture } from './testing/fixture.js';

let f: Fixture;
beforeAll(async () => {
  await initBackend('wasm', { log: false });
  f = await fixture();
});

describe('conceptLens', () => {
  it('the last layer is what generate predicts at every position; layer predictions leave forward unchanged', async () => {
    const model = new BaseLcm({ ...tinyConfig, layers: 3 }, f.space);
    const batch = trainingBatch(f, tinyConfig.maxSentences);
    await fit(model, batch, 25, 3e-3);
    disposeBatch(batch);
    const doc = documents[1]!;
    const before = tf.memory().numTensors;
    const grid = await conceptLens(model, f.codec, doc);
    expect(tf.memory().numTensors).toBe(before);
    expect(grid.cells).toHaveLength(3);
    expect(grid.targets).toEqual([doc[1], doc[2], null]);
    for (let i = 0; i < doc.length; i++) {
      const out = [];
      for await (const s of model.generate(f.codec, doc.slice(0, i + 1), { maxSentences: 1, stopThreshold: 1.01 })) out.push(s);
      expect(grid.cells[2]![i]!.text).toBe(out[0]!.text);
      if (i + 1 < doc.length) {
        const [target] = await f.codec.encode([doc[i + 1]!]);
        expect(grid.cells[2]![i]!.cosine).toBeCloseTo(cosine(out[0]!.vector, target!), 6);
      }
    }
    expect(grid.cells[0]![2]!.cosine).toBeNull();

    const x = tf.tensor3d(Float32Array.from({ length: 3 * tinyConfig.dEmb }, (_, i) => Math.sin(i)), [1, 3, tinyConfig.dEmb]);
    const layers = model.layerPredictions(x);
    const out = model.forward(x);
    expect(layers).toHaveLength(3);
    expect(Array.from(await layers[2]!.data())).toEqual(Array.from(await out.data()));
    expect(Array.from(await layers[0]!.data())).not.toEqual(Array.from(await out.data()));
    tf.dispose([x, out, ...layers]);
    await expect(conceptLens(model, f.codec, Array.from({ length: 8 }, () => doc[0]!))).rejects.toThrow(/8 sentences; the head reads 1..7/);
    model.dispose();
  }, 60_000);

  it("the energy head: every cell from one noise draw, the last layer what generate samples first at that seed; another seed draws other vectors", async () => {
    const model = new EnergyLcm({ ...tinyConfig, layers: 2, generator: { blocks: 1, samples: 2 } }, f.space);
    const batch = trainingBatch(f, tinyConfig.maxSentences);
    await fit(model, batch, 15, 3e-3);
    disposeBatch(batch);
    const doc = documents[1]!;
    const before = tf.memory().numTensors;
    const grid = await conceptLens(model, f.codec, doc, { seed: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(grid.cells).toHaveLength(2);
    for (let i = 0; i < doc.length; i++) {
      const out = [];
      for await (const s of model.generate(f.codec, doc.slice(0, i + 1), { maxSentences: 1, stopThreshold: 1.01, seed: 5 })) out.push(s);
      expect(grid.cells[1]![i]!.text).toBe(out[0]!.text);
      if (i + 1 < doc.length) {
        const [target] = await f.codec.encode([doc[i + 1]!]);
        expect(grid.cells[1]![i]!.cosine).toBeCloseTo(cosine(out[0]!.vector, target!), 6);
      }
    }
    const other = await conceptLens(model, f.codec, doc, { seed: 6 });
    expect(other.cells[1]!.map((c) => c.cosine)).not.toEqual(grid.cells[1]!.map((c) => c.cosine));
    expect(hasLens(model)).toBe(true);
    const diffusion = new TwoTowerLcm({ ...tinyConfig, contextLayers: 1, denoiserLayers: 1, timestepDim: 8, schedule: { steps: 10 }, sampling: { steps: 2 } }, f.space);
    expect(hasLens(diffusion)).toBe(false);
    diffusion.dispose();
    model.dispose();
  }, 60_000);
});
