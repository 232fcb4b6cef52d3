import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { Embedding } from '../layers/embedding.js';
import { TransformerStack } from '../layers/transformer-stack.js';
import { Module } from '../module.js';
import { Rng } from '../rng.js';
import { legacyAttentionLayout } from '../testing/legacy-layout.js';
import { AdamW } from '../train/adamw.js';
import { disposeGrads, valueAndGrads } from '../train/grads.js';
import { crossEntropy } from '../train/losses.js';
import { loadCheckpoint, restoreCheckpoint, saveCheckpoint } from './checkpoint.js';
import { CheckpointError, decodeSafetensors, encodeSafetensors } from './safetensors.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

const dir = mkdtempSync(join(tmpdir(), 'tensor-ckpt-'));

class Tiny extends Module {
  readonly tok: Embedding;
  readonly blocks: TransformerStack;
  constructor(rng: Rng) {
    super();
    this.tok = this.addModule('tok', new Embedding({ numEmbeddings: 11, dim: 8, rng }));
    // dropout > 0 so resuming must also restore the dropout RNG
    this.blocks = this.addModule('blocks', new TransformerStack({ numLayers: 1, dModel: 8, numHeads: 2, dropout: 0.1, rng }));
  }
  loss(ids: tf.Tensor, targets: tf.Tensor): tf.Scalar {
    return crossEntropy(this.tok.project(this.blocks.forward(this.tok.forward(ids), { causal: true })), targets);
  }
}

const ids = () => tf.tensor2d([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]], [2, 5], 'int32');
const targets = () => tf.tensor2d([[2, 3, 4, 5, 6], [7, 8, 9, 10, 0]], [2, 5], 'int32');

/** A Tiny model built from (and drawing dropout from) Rng(seed), with its AdamW. */
function tinyWithOptimizer(seed: number): { rng: Rng; model: Tiny; opt: AdamW } {
  const rng = new Rng(seed);
  const model = new Tiny(rng);
  return { rng, model, opt: new AdamW(model.namedParameters(), { lr: 1e-2 }) };
}

async function train(model: Tiny, opt: AdamW, steps: number): Promise<number[]> {
  const x = ids();
  const y = targets();
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const { loss, grads } = await valueAndGrads(model, () => model.loss(x, y));
    opt.applyGradients(grads);
    disposeGrads(grads);
    losses.push(loss);
  }
  x.dispose();
  y.dispose();
  return losses;
}

describe('safetensors', () => {
  it('round-trips F32 and I32 bit-exactly, with an aligned data section', () => {
    const f = new Float32Array([1.5, -0, Number.MIN_VALUE, 3.4e38, NaN, -Infinity]);
    const i = new Int32Array([0, -1, 2 ** 31 - 1, -(2 ** 31)]);
    const { header, data } = encodeSafetensors(
      new Map([
        ['b', { dtype: 'I32' as const, shape: [2, 2], data: i }],
        ['a', { dtype: 'F32' as const, shape: [6], data: f }],
      ]),
      { note: 'hi' },
    );
    expect(header.length % 8).toBe(0);
    const bytes = new Uint8Array([...header, ...data]);
    const back = decodeSafetensors(bytes, 'x.safetensors');
    expect(back.metadata).toEqual({ note: 'hi' });
    expect(new Uint32Array(back.tensors.get('a')!.data.buffer)).toEqual(new Uint32Array(f.buffer));
    expect(Array.from(back.tensors.get('b')!.data)).toEqual(Array.from(i));
    expect(back.tensors.get('b')!.shape).toEqual([2, 2]);
    // header is standard JSON a Python reader would accept
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(json.a).toEqual({ dtype: 'F32', shape: [6], data_offsets: [0, 24] });
    expect(json.b).toEqual({ dtype: 'I32', shape: [2, 2], data_offsets: [24, 40] });
  });

  it('reports truncation and bad headers as CheckpointError naming the file', () => {
    const { header, data } = encodeSafetensors(new Map([['a', { dtype: 'F32' as const, shape: [4], data: new Float32Array(4) }]]), {});
    const bytes = new Uint8Array([...header, ...data]);
    expect(() => decodeSafetensors(bytes.subarray(0, 5), 'f.st')).toThrow(/checkpoint f\.st: truncated: 5 bytes/);
    expect(() => decodeSafetensors(bytes.subarray(0, 20), 'f.st')).toThrow(/truncated: header needs/);
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), 'f.st')).toThrow(/truncated: tensor "a" ends at byte 16/);
    const bad = bytes.slice();
    bad[8] = 0x7b + 1; // break the JSON
    expect(() => decodeSafetensors(bad, 'f.st')).toThrow(CheckpointError);
    expect(() => decodeSafetensors(bad, 'f.st')).toThrow(/header is not valid JSON/);
  });
});

describe('checkpoints', () => {
  it('round-trips weights, optimizer state, step, RNG and config bit-exactly', async () => {
    const rng = new Rng(1);
    const model = new Tiny(rng);
    const opt = new AdamW(model.namedParameters(), { lr: 1e-2 });
    await train(model, opt, 2);
    const file = join(dir, 'rt.safetensors');
    await saveCheckpoint(file, { model, optimizer: opt, step: 2, rngs: { main: rng }, config: { d: 8, name: 'tiny' }, extra: { best: 1.25 } });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const other = new Tiny(new Rng(99));
    const otherOpt = new AdamW(other.namedParameters(), { lr: 1e-2 });
    const otherRng = new Rng(5);
    const ck = restoreCheckpoint(file, { model: other, optimizer: otherOpt, rngs: { main: otherRng } });
    expect(ck.step).toBe(2);
    expect(ck.config).toEqual({ d: 8, name: 'tiny' });
    expect(ck.extra).toEqual({ best: 1.25 });
    expect(otherOpt.step).toBe(2);
    expect(otherRng.getState()).toEqual(rng.getState());
    const a = model.parameterMap();
    for (const [name, v] of other.namedParameters()) {
      expect(new Uint32Array(v.dataSync().buffer), name).toEqual(new Uint32Array(a.get(name)!.dataSync().buffer));
    }
    const s1 = opt.getState();
    const s2 = otherOpt.getState();
    for (const [name, t] of s1.v) expect(Array.from(s2.v.get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync()));
  });

  it('resuming from a checkpoint continues the exact same loss curve', async () => {
    const straight = tinyWithOptimizer(3);
    const expected = await train(straight.model, straight.opt, 6);

    const first = tinyWithOptimizer(3);
    const head = await train(first.model, first.opt, 3);
    const file = join(dir, 'resume.safetensors');
    await saveCheckpoint(file, { model: first.model, optimizer: first.opt, step: 3, rngs: { main: first.rng } });

    const resumed = tinyWithOptimizer(12345);
    restoreCheckpoint(file, { model: resumed.model, optimizer: resumed.opt, rngs: { main: resumed.rng } });
    const tail = await train(resumed.model, resumed.opt, 3);
    expect([...head, ...tail]).toEqual(expected);
    expect(expected[5]!).toBeLessThan(expected[0]!);
  });

  it('a checkpoint written before q, k and v were packed (separate q/k/v layers) resumes the same loss curve', async () => {
    const straight = tinyWithOptimizer(4);
    const expected = await train(straight.model, straight.opt, 5);

    const first = tinyWithOptimizer(4);
    const head = await train(first.model, first.opt, 2);
    // The old layout: every packed tensor (weights and both moments) as three [..., 8] layers.
    const oldParams = [...legacyAttentionLayout(first.model.namedParameters())];
    expect(oldParams.map(([n]) => n)).toContain('blocks.layers.0.attn.v.bias');
    const oldOpt = new AdamW(oldParams, { lr: 1e-2 });
    const state = first.opt.getState();
    oldOpt.setState({ step: state.step, m: legacyAttentionLayout(state.m), v: legacyAttentionLayout(state.v) });
    const file = join(dir, 'legacy.safetensors');
    await saveCheckpoint(file, { model: { namedParameters: () => oldParams }, optimizer: oldOpt, step: 2, rngs: { main: first.rng } });
    expect([...loadCheckpoint(file).params.keys()]).toContain('blocks.layers.0.attn.q.weight');

    const resumed = tinyWithOptimizer(777);
    restoreCheckpoint(file, { model: resumed.model, optimizer: resumed.opt, rngs: { main: resumed.rng } });
    const tail = await train(resumed.model, resumed.opt, 3);
    expect([...head, ...tail]).toEqual(expected);
  });

  it('detects corruption by checksum and names the file', async () => {
    const model = new Tiny(new Rng(1));
    const file = join(dir, 'corrupt.safetensors');
    await saveCheckpoint(file, { model, step: 0 });
    const bytes = readFileSync(file);
    bytes[bytes.length - 3]! ^= 0xff;
    writeFileSync(file, bytes);
    expect(() => loadCheckpoint(file)).toThrow(new RegExp(`checkpoint ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: corrupted: sha256`));
    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    expect(() => loadCheckpoint(file)).toThrow(/truncated/);
    expect(() => loadCheckpoint(join(dir, 'missing.safetensors'))).toThrow(/cannot read: ENOENT/);
  });

  it('refuses a checkpoint of a different architecture with a clear error', async () => {
    const file = join(dir, 'arch.safetensors');
    await saveCheckpoint(file, { model: new Tiny(new Rng(1)), step: 0 });
    const wider = new TransformerStack({ numLayers: 1, dModel: 8, numHeads: 2, rng: new Rng(1) });
    expect(() => restoreCheckpoint(file, { model: wider })).toThrow(/checkpoint .*arch\.safetensors: loadParameters: missing/);
    expect(() => restoreCheckpoint(file, { model: new Tiny(new Rng(1)), optimizer: new AdamW([], { lr: 1 }) })).toThrow(/has no optimizer state/);
  });
});
