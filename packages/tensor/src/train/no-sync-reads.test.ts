/**
 * Training helpers must never read tensors synchronously: on webgpu in Node `dataSync()` throws.
 * Here `tf.engine().readSync` (what dataSync/arraySync/bufferSync go through) throws instead, so
 * a synchronous read anywhere in these paths fails the test on the cpu backend.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { decodeTensors, encodeTensors } from '../checkpoint/checked.js';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint/checkpoint.js';
import { Linear } from '../layers/linear.js';
import { Rng } from '../rng.js';
import { AdamW } from './adamw.js';
import { clipGradNorm, disposeGrads, DynamicLossScaler, globalNorm, valueAndGrads } from './grads.js';
import { crossEntropy } from './losses.js';
import { readMetricValues } from './metrics.js';
import { withoutSyncReads } from '../testing/sync-reads.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('training helpers read asynchronously only', () => {
  it('the guard turns dataSync into an error', async () => {
    const t = tf.scalar(1);
    await withoutSyncReads(async () => expect(() => t.dataSync()).toThrow(/synchronous tensor read/));
    expect(t.dataSync()[0]).toBe(1);
    t.dispose();
  });

  it('valueAndGrads, norms, clipping, loss scaling, metrics and checkpoints', async () => {
    const rng = new Rng(4);
    const lin = new Linear({ inFeatures: 3, outFeatures: 4, rng });
    const opt = new AdamW(lin.namedParameters(), { lr: 1e-2 });
    const x = tf.tensor2d(rng.normalArray(6), [2, 3]);
    const y = tf.tensor1d([0, 3], 'int32');
    const file = join(mkdtempSync(join(tmpdir(), 'tensor-nosync-')), 'ck.safetensors');
    const read = await withoutSyncReads(async () => {
      const { loss, grads } = await valueAndGrads(lin, () => crossEntropy(lin.forward(x), y), { lossScale: 8 });
      const norm = await globalNorm(grads);
      const clipped = await clipGradNorm(grads, norm / 2);
      const finite = await new DynamicLossScaler(8).update(grads);
      opt.applyGradients(grads);
      disposeGrads(grads);
      const metrics = await readMetricValues({ loss: tf.scalar(loss), half: tf.scalar(0.5), count: 3 });
      await saveCheckpoint(file, { model: lin, optimizer: opt, step: 1 });
      const bytes = await encodeTensors(lin.parameterMap());
      return { loss, norm, clipped, finite, metrics, bytes };
    });
    expect(read.loss).toBeGreaterThan(0);
    expect(read.clipped).toBe(read.norm);
    expect(read.finite).toBe(true);
    expect(read.metrics).toEqual({ loss: expect.closeTo(read.loss, 6), half: 0.5, count: 3 });
    expect(loadCheckpoint(file).step).toBe(1);
    const decoded = decodeTensors(read.bytes, 'params.safetensors');
    expect(Array.from(decoded.get('weight')!.dataSync())).toEqual(Array.from(lin.weight.dataSync()));
    tf.dispose([x, y, ...decoded.values()]);
    opt.dispose();
  });
});
