import * as tf from '@tensorflow/tfjs-core';

/**
 * The design doc's "tiny GPT" training step, written with raw tfjs-core ops only, as a
 * backend-level workload: profiling which kernels matter, the gradient checks of the tests
 * and the before/after figures of the README. (Model code proper lives in @sentencelab/tensor.)
 */
export interface TinyGptConfig {
  vocab: number;
  dModel: number;
  seq: number;
  batch: number;
  layers: number;
  heads: number;
  seed: number;
}

export const TINY_GPT: TinyGptConfig = { vocab: 512, dModel: 256, seq: 128, batch: 8, layers: 2, heads: 4, seed: 1 };

export interface TinyGpt {
  /** One Adam step on the fixed batch; returns the loss before the update. */
  step(): number;
  /** Loss and gradients (by variable name) on the fixed batch, without updating. */
  lossAndGrads(): { loss: number; grads: Record<string, Float32Array> };
  /** Tensors the model holds (variables, optimizer state, batch): for leak checks. */
  dispose(): void;
}

/** Builds the model on the current backend; parameters and batch depend only on cfg.seed. */
export function createTinyGpt(cfg: TinyGptConfig = TINY_GPT): TinyGpt {
  const { vocab: V, dModel: D, seq: T, batch: B, layers: L, heads: H } = cfg;
  const dh = D / H;
  let seed = cfg.seed * 1000;
  const param = (name: string, shape: number[], init: 'normal' | 'zeros' | 'ones') =>
    tf.variable(
      init === 'normal' ? tf.randomNormal(shape, 0, 0.02, 'float32', seed++) : init === 'ones' ? tf.ones(shape) : tf.zeros(shape),
      true,
      `${name}_${cfg.seed}_${Math.random().toString(36).slice(2)}`,
    );
  const named: Record<string, tf.Variable> = {};
  const p = (name: string, shape: number[], init: 'normal' | 'zeros' | 'ones') => (named[name] = param(name, shape, init));
  const wte = p('wte', [V, D], 'normal');
  const wpe = p('wpe', [T, D], 'normal');
  const blocks = Array.from({ length: L }, (_, l) => ({
    ln1g: p(`h${l}.ln1g`, [D], 'ones'),
    ln1b: p(`h${l}.ln1b`, [D], 'zeros'),
    wqkv: p(`h${l}.wqkv`, [D, 3 * D], 'normal'),
    bqkv: p(`h${l}.bqkv`, [3 * D], 'zeros'),
    wo: p(`h${l}.wo`, [D, D], 'normal'),
    bo: p(`h${l}.bo`, [D], 'zeros'),
    ln2g: p(`h${l}.ln2g`, [D], 'ones'),
    ln2b: p(`h${l}.ln2b`, [D], 'zeros'),
    w1: p(`h${l}.w1`, [D, 4 * D], 'normal'),
    b1: p(`h${l}.b1`, [4 * D], 'zeros'),
    w2: p(`h${l}.w2`, [4 * D, D], 'normal'),
    b2: p(`h${l}.b2`, [D], 'zeros'),
  }));
  const lnfg = p('lnfg', [D], 'ones');
  const lnfb = p('lnfb', [D], 'zeros');

  // A fixed batch from a small LCG: tokens [B, T] and next-token targets [B, T].
  let s = cfg.seed >>> 0;
  const ids = Int32Array.from({ length: B * (T + 1) }, () => ((s = (s * 1664525 + 1013904223) >>> 0) >>> 8) % V);
  const rows = Array.from({ length: B }, (_, b) => ids.subarray(b * (T + 1), (b + 1) * (T + 1)));
  const tokens = tf.tensor2d(rows.flatMap((r) => Array.from(r.subarray(0, T))), [B, T], 'int32');
  const targets = tf.oneHot(tf.tensor1d(rows.flatMap((r) => Array.from(r.subarray(1))), 'int32'), V);
  // mask: [T, T], 0 on and below the diagonal, -1e9 above (causal attention).
  const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9));
  const optimizer = tf.train.adam(1e-3);

  const layerNorm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, 1e-5))), g), b);
  };
  const gelu = (x: tf.Tensor) =>
    tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI)))));
  const heads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [B, T, H, dh]), [0, 2, 1, 3]); // [B, H, T, dh]

  const loss = (): tf.Scalar => {
    // x: [B*T, D]
    let x = tf.reshape(tf.add(tf.reshape(tf.gather(wte, tf.reshape(tokens, [-1])), [B, T, D]), wpe), [B * T, D]);
    for (const blk of blocks) {
      const h = layerNorm(x, blk.ln1g, blk.ln1b);
      const qkv = tf.reshape(tf.add(tf.matMul(h, blk.wqkv), blk.bqkv), [B, T, 3 * D]);
      const [q, k, v] = tf.split(qkv, 3, 2) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const att = tf.softmax(tf.add(tf.mul(tf.matMul(heads(q), heads(k), false, true), 1 / Math.sqrt(dh)), mask)); // [B, H, T, T]
      const y = tf.reshape(tf.transpose(tf.matMul(att, heads(v)), [0, 2, 1, 3]), [B * T, D]);
      x = tf.add(x, tf.add(tf.matMul(y, blk.wo), blk.bo));
      const m = gelu(tf.add(tf.matMul(layerNorm(x, blk.ln2g, blk.ln2b), blk.w1), blk.b1));
      x = tf.add(x, tf.add(tf.matMul(m, blk.w2), blk.b2));
    }
    const logits = tf.matMul(layerNorm(x, lnfg, lnfb), wte, false, true); // [B*T, V]
    return tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar;
  };

  const vars = Object.values(named);
  return {
    step() {
      const value = optimizer.minimize(loss, true, vars);
      const out = value!.dataSync()[0]!;
      value!.dispose();
      return out;
    },
    lossAndGrads() {
      const { value, grads } = tf.variableGrads(loss, vars);
      const byName: Record<string, Float32Array> = {};
      for (const [name, v] of Object.entries(named)) byName[name] = grads[v.name]!.dataSync() as Float32Array;
      const out = { loss: value.dataSync()[0]!, grads: byName };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    },
    dispose() {
      tf.dispose([...vars, tokens, targets, mask]);
      optimizer.dispose();
    },
  };
}
