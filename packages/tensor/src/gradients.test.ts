/**
 * Every gradient in gradients.ts against central finite differences of the forward kernel,
 * on cpu and wasm (wasm also exercises the patched BatchMatMul and the JS UnsortedSegmentSum).
 * The loss is sum(f(x) * r) for a fixed random r, accumulated in float64. Each gradient also
 * goes through train/backward.ts's early-freeing backward, which must give tf.grads's bits.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { Rng } from './rng.js';
import { gradients } from './train/backward.js';

type Domain = 'any' | 'pos' | 'away0';
interface OpCase {
  name: string;
  shapes: number[][];
  domain?: Domain;
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

const distinct = (shape: number[]) => shape; // values are random normals: ties have probability 0

const cases: OpCase[] = [
  { name: 'Neg', shapes: [[2, 3]], fn: (x) => tf.neg(x) },
  { name: 'Identity', shapes: [[2, 3]], fn: (x) => tf.clone(x) },
  { name: 'Square', shapes: [[2, 3]], fn: (x) => tf.square(x) },
  { name: 'Sqrt', shapes: [[2, 3]], domain: 'pos', fn: (x) => tf.sqrt(x) },
  { name: 'Rsqrt', shapes: [[2, 3]], domain: 'pos', fn: (x) => tf.rsqrt(x) },
  { name: 'Reciprocal', shapes: [[2, 3]], domain: 'pos', fn: (x) => tf.reciprocal(x) },
  { name: 'Exp', shapes: [[2, 3]], fn: (x) => tf.exp(x) },
  { name: 'Expm1', shapes: [[2, 3]], fn: (x) => tf.expm1(x) },
  { name: 'Log', shapes: [[2, 3]], domain: 'pos', fn: (x) => tf.log(x) },
  { name: 'Log1p', shapes: [[2, 3]], domain: 'pos', fn: (x) => tf.log1p(x) },
  { name: 'Abs', shapes: [[2, 3]], domain: 'away0', fn: (x) => tf.abs(x) },
  { name: 'Relu', shapes: [[2, 3]], domain: 'away0', fn: (x) => tf.relu(x) },
  { name: 'LeakyRelu', shapes: [[2, 3]], domain: 'away0', fn: (x) => tf.leakyRelu(x, 0.1) },
  { name: 'Elu', shapes: [[2, 3]], domain: 'away0', fn: (x) => tf.elu(x) },
  { name: 'Relu6', shapes: [[2, 4]], domain: 'away0', fn: (x) => tf.relu6(tf.mul(x, 4)) },
  { name: 'Atan', shapes: [[2, 3]], fn: (x) => tf.atan(x) },
  { name: 'Sigmoid', shapes: [[2, 3]], fn: (x) => tf.sigmoid(x) },
  { name: 'Tanh', shapes: [[2, 3]], fn: (x) => tf.tanh(x) },
  { name: 'Softplus', shapes: [[2, 3]], fn: (x) => tf.softplus(x) },
  { name: 'Erf', shapes: [[2, 3]], fn: (x) => tf.erf(x) },
  { name: 'Sin', shapes: [[2, 3]], fn: (x) => tf.sin(x) },
  { name: 'Cos', shapes: [[2, 3]], fn: (x) => tf.cos(x) },
  { name: 'ClipByValue', shapes: [[3, 4]], fn: (x) => tf.clipByValue(x, -0.55, 0.45) },
  { name: 'Reshape', shapes: [[2, 3]], fn: (x) => tf.mul(tf.reshape(x, [3, 2]), tf.tensor2d([[1, 2], [3, 4], [5, 6]])) },
  { name: 'ExpandDims', shapes: [[2, 3]], fn: (x) => tf.expandDims(x, 1) },
  { name: 'Transpose', shapes: [[2, 3, 4]], fn: (x) => tf.transpose(x, [2, 0, 1]) },
  { name: 'Reverse', shapes: [[2, 3]], fn: (x) => tf.reverse(x, 1) },
  { name: 'Cumsum', shapes: [[2, 4]], fn: (x) => tf.cumsum(x, 1) },
  { name: 'Cumsum exclusive reverse', shapes: [[2, 4]], fn: (x) => tf.cumsum(x, 1, true, true) },
  { name: 'Sum axis', shapes: [[2, 3, 4]], fn: (x) => tf.sum(x, [0, 2]) },
  { name: 'Sum keepDims', shapes: [[2, 3]], fn: (x) => tf.sum(x, -1, true) },
  { name: 'Mean', shapes: [[2, 3, 4]], fn: (x) => tf.mean(x, 1) },
  { name: 'Max', shapes: [distinct([3, 4])], fn: (x) => tf.max(x, 1) },
  { name: 'Min', shapes: [distinct([3, 4])], fn: (x) => tf.min(x, 0) },
  { name: 'Softmax', shapes: [[2, 5]], fn: (x) => tf.softmax(x) },
  { name: 'LogSoftmax', shapes: [[2, 5]], fn: (x) => tf.logSoftmax(x) },
  { name: 'Tile', shapes: [[2, 3]], fn: (x) => tf.tile(x, [2, 3]) },
  { name: 'BroadcastTo', shapes: [[1, 3]], fn: (x) => tf.broadcastTo(x, [4, 3]) },
  { name: 'Slice', shapes: [[3, 4]], fn: (x) => tf.slice(x, [1, 1], [2, -1]) },
  { name: 'PadV2', shapes: [[2, 3]], fn: (x) => tf.pad(x, [[1, 0], [2, 1]], 0.5) },
  { name: 'Add broadcast', shapes: [[2, 3], [3]], fn: (a, b) => tf.add(a, b) },
  { name: 'Sub broadcast', shapes: [[2, 1], [1, 3]], fn: (a, b) => tf.sub(a, b) },
  { name: 'Multiply broadcast', shapes: [[2, 3], [2, 1]], fn: (a, b) => tf.mul(a, b) },
  { name: 'RealDiv', shapes: [[2, 3], [3]], domain: 'pos', fn: (a, b) => tf.div(a, b) },
  { name: 'SquaredDifference', shapes: [[2, 3], [2, 3]], fn: (a, b) => tf.squaredDifference(a, b) },
  { name: 'Maximum', shapes: [[2, 3], [2, 3]], fn: (a, b) => tf.maximum(a, b) },
  { name: 'Minimum', shapes: [[2, 3], [3]], fn: (a, b) => tf.minimum(a, b) },
  { name: 'Pow', shapes: [[2, 3], [2, 3]], domain: 'pos', fn: (a, b) => tf.pow(a, b) },
  { name: 'BatchMatMul 2-D', shapes: [[3, 4], [4, 2]], fn: (a, b) => tf.matMul(a, b) },
  { name: 'BatchMatMul transposeA', shapes: [[4, 3], [4, 2]], fn: (a, b) => tf.matMul(a, b, true, false) },
  { name: 'BatchMatMul transposeB', shapes: [[2, 3, 4], [2, 5, 4]], fn: (a, b) => tf.matMul(a, b, false, true) },
  { name: 'BatchMatMul both', shapes: [[2, 2, 4, 3], [2, 2, 5, 4]], fn: (a, b) => tf.matMul(a, b, true, true) },
  { name: 'BatchMatMul broadcast b', shapes: [[2, 3, 4], [4, 2]], fn: (a, b) => tf.matMul(a, b) },
  { name: 'GatherV2 axis 0 (repeats)', shapes: [[4, 3]], fn: (x) => tf.gather(x, tf.tensor1d([3, 0, 3, 1], 'int32')) },
  { name: 'GatherV2 axis 1', shapes: [[2, 4, 3]], fn: (x) => tf.gather(x, tf.tensor2d([[1, 1], [3, 0]], [2, 2], 'int32'), 1) },
  { name: 'Concat', shapes: [[2, 3], [2, 1]], fn: (a, b) => tf.concat([a, b], 1) },
  { name: 'AddN', shapes: [[2, 3], [2, 3], [2, 3]], fn: (a, b, c) => tf.addN([a, b, c]) },
  { name: 'Pack', shapes: [[2, 3], [2, 3]], fn: (a, b) => tf.stack([a, b], 1) },
  { name: 'Unpack', shapes: [[3, 2]], fn: (x) => tf.unstack(x, 1) },
  { name: 'SplitV', shapes: [[2, 5]], fn: (x) => tf.split(x, [2, 3], 1) },
  { name: 'Select', shapes: [[2, 3], [2, 3]], fn: (a, b) => tf.where(tf.tensor2d([[1, 0, 1], [0, 0, 1]], [2, 3], 'bool'), a, b) },
];

function sample(rng: Rng, shape: number[], domain: Domain): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = rng.normalArray(n);
  for (let i = 0; i < n; i++) {
    if (domain === 'pos') out[i] = 0.5 + Math.abs(out[i]!);
    if (domain === 'away0') out[i] = (Math.abs(out[i]!) + 0.2) * Math.sign(out[i]! || 1);
  }
  return out;
}

/** sum_k f(x)_k * r_k in float64 (r drawn per output element from `rSeed`). */
function lossValue(c: OpCase, xs: tf.Tensor[], rSeed: number): number {
  const outs = tf.tidy(() => {
    const y = c.fn(...xs);
    return (Array.isArray(y) ? y : [y]).map((t) => t.dataSync().slice());
  });
  const r = new Rng(rSeed);
  let s = 0;
  for (const o of outs) for (const v of o) s += v * r.normal();
  return s;
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`gradients vs finite differences on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend, { log: false });
    });
    afterAll(() => tf.disposeVariables());

    for (const c of cases) {
      it(c.name, () => {
        const rng = new Rng(c.name.length * 7919 + 1);
        const values = c.shapes.map((s) => sample(rng, s, c.domain ?? 'any'));
        const xs = values.map((v, i) => tf.tensor(v, c.shapes[i]));
        const rSeed = 17;
        const loss = (...ins: tf.Tensor[]) => {
          const y = c.fn(...ins);
          const r = new Rng(rSeed);
          const parts = (Array.isArray(y) ? y : [y]).map((t) => tf.sum(tf.mul(t, tf.tensor(r.normalArray(t.size), t.shape))));
          return tf.addN(parts) as tf.Scalar;
        };
        const analytic = tf.tidy(() => tf.grads(loss)(xs).map((g) => g.dataSync().slice()));
        // The early-freeing backward that training uses gives the same bits.
        const early = tf.tidy(() => gradients(() => loss(...xs), xs).grads.map((g) => g!.dataSync().slice()));
        expect(early, `${c.name}: early-freeing backward vs tf.grads`).toEqual(analytic);
        const eps = 1e-2;
        values.forEach((v, i) => {
          for (let j = 0; j < v.length; j++) {
            const bump = (d: number) => {
              const w = v.slice();
              w[j] = w[j]! + d;
              const ins = xs.map((x, k) => (k === i ? tf.tensor(w, c.shapes[i]) : x));
              const l = lossValue(c, ins, rSeed);
              ins[i]!.dispose();
              return l;
            };
            const numeric = (bump(eps) - bump(-eps)) / (2 * eps);
            const got = analytic[i]![j]!;
            expect(Math.abs(got - numeric), `${c.name} input ${i}[${j}]: analytic ${got} numeric ${numeric}`).toBeLessThan(2e-3 + 1e-2 * Math.abs(numeric));
          }
        });
        xs.forEach((x) => x.dispose());
      });
    }
  });
}
