import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { TransformerStack } from './layers/transformer-stack.js';
import { Linear } from './layers/linear.js';
import { Rng } from './rng.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('Module registry', () => {
  it('names parameters hierarchically and counts them', () => {
    const stack = new TransformerStack({ numLayers: 2, dModel: 8, numHeads: 2, rng: new Rng(0) });
    const names = stack.namedParameters().map(([n]) => n);
    expect(names).toContain('layers.0.attn.qkv.weight');
    expect(names).toContain('layers.1.mlp.down.bias');
    expect(names).toContain('norm.weight');
    // per layer: 4 attn projections (8*8+8) + 2 layernorms (2*8 each) + mlp (8*32+32 + 32*8+8)
    const perLayer = 4 * (64 + 8) + 2 * 16 + (256 + 32 + 256 + 8);
    expect(stack.numParams()).toBe(2 * perLayer + 16);
    expect(stack.numParams('layers.1.')).toBe(perLayer);
    expect(stack.paramCounts()).toEqual({ 'layers.0': perLayer, 'layers.1': perLayer, norm: 16 });
    stack.dispose();
  });

  it('propagates train/eval mode to children', () => {
    const stack = new TransformerStack({ numLayers: 1, dModel: 8, numHeads: 2, rng: new Rng(0) });
    expect(stack.layers[0]!.mlp.training).toBe(true);
    stack.eval();
    expect(stack.layers[0]!.mlp.training).toBe(false);
    stack.train();
    expect(stack.layers[0]!.attn.training).toBe(true);
    stack.dispose();
  });

  it('inEval runs in eval mode and restores the previous mode, also after a throw', () => {
    const stack = new TransformerStack({ numLayers: 1, dModel: 8, numHeads: 2, rng: new Rng(0) });
    expect(stack.inEval(() => stack.layers[0]!.mlp.training)).toBe(false);
    expect(stack.layers[0]!.mlp.training).toBe(true);
    expect(() => stack.inEval(() => { throw new Error('boom'); })).toThrow('boom');
    expect(stack.training).toBe(true);
    stack.eval();
    stack.inEval(() => undefined);
    expect(stack.training).toBe(false);
    stack.dispose();
  });

  it('initialises identically from the same seed', () => {
    const a = new Linear({ inFeatures: 4, outFeatures: 3, rng: new Rng(5) });
    const b = new Linear({ inFeatures: 4, outFeatures: 3, rng: new Rng(5) });
    expect(Array.from(a.weight.dataSync())).toEqual(Array.from(b.weight.dataSync()));
    a.dispose();
    b.dispose();
  });

  it('loadParameters names missing, unknown and mis-shaped entries', () => {
    const l = new Linear({ inFeatures: 2, outFeatures: 2, rng: new Rng(0) });
    expect(() => l.loadParameters({ weight: tf.zeros([2, 2]) })).toThrow(/missing bias/);
    expect(() => l.loadParameters({ weight: tf.zeros([2, 2]), bias: tf.zeros([2]), extra: tf.zeros([1]) })).toThrow(/unknown extra/);
    expect(() => l.loadParameters({ weight: tf.zeros([3, 2]), bias: tf.zeros([2]) })).toThrow(/"weight" has shape \[3,2\]/);
    l.loadParameters({ weight: tf.ones([2, 2]), bias: tf.zeros([2]) });
    expect(Array.from(l.weight.dataSync())).toEqual([1, 1, 1, 1]);
    l.dispose();
  });
});

describe('Module memory', () => {
  it('dispose frees every tensor a module and its optimizer created', async () => {
    const { AdamW } = await import('./train/adamw.js');
    const before = tf.memory().numTensors;
    const stack = new TransformerStack({ numLayers: 2, dModel: 8, numHeads: 2, rng: new Rng(0) });
    const opt = new AdamW(stack.namedParameters(), { lr: 1e-3 });
    expect(tf.memory().numTensors).toBe(before + 3 * stack.parameters().length);
    opt.dispose();
    stack.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
