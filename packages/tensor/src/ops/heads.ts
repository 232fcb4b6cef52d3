import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelNames as K } from '../webgpu/register.js';
import { hasFusedKernel, runFused } from './fused.js';

export interface SplitHeadsOptions {
  batch: number;
  heads: number;
  /** Projections side by side in y (3 for q/k/v). */
  parts: number;
  /** The parts' biases side by side, [parts * dModel] (a packed Linear's bias), added first. */
  bias?: tf.Tensor;
}

/**
 * y: [batch * len, parts * dModel] (projections side by side) -> one [batch, heads, len,
 * dModel / heads] tensor per part, the bias [parts * dModel] added. One dispatch for all parts
 * (and one plus a column sum for the bias backward) where the backend has the kernel (webgpu,
 * native), else the composite add, split, reshape and transposes.
 */
export function splitHeads(y: tf.Tensor, o: SplitHeadsOptions): tf.Tensor4D[] {
  const [rows, width] = y.shape as [number, number];
  const dModel = width / o.parts;
  const headDim = dModel / o.heads;
  if (y.rank !== 2 || !Number.isInteger(headDim) || !Number.isInteger(rows / o.batch)) {
    throw new Error(`splitHeads: y [${y.shape}] is not [batch=${o.batch} * len, parts=${o.parts} * heads=${o.heads} * headDim]`);
  }
  const len = rows / o.batch;
  const bias = o.bias;
  if (bias !== undefined && (bias.rank !== 1 || bias.size !== width)) {
    throw new Error(`splitHeads: bias must be [parts * dModel] = [${width}], got [${bias.shape}]`);
  }
  if (y.dtype === 'float32' && hasFusedKernel(K.splitHeads, splitHeadsGradConfig)) {
    const inputs: Record<string, tf.Tensor> = bias === undefined ? { y } : { y, bias };
    const out = runFused(K.splitHeads, inputs, { batch: o.batch, heads: o.heads, parts: o.parts, withBias: bias !== undefined });
    return (Array.isArray(out) ? out : [out]) as tf.Tensor4D[];
  }
  return tf.tidy(() => {
    const yb = bias === undefined ? y : tf.add(y, bias);
    const pieces = o.parts === 1 ? [yb] : tf.split(yb, Array<number>(o.parts).fill(dModel), 1);
    return pieces.map((t) => tf.transpose(tf.reshape(t, [o.batch, len, o.heads, headDim]), [0, 2, 1, 3]) as tf.Tensor4D);
  });
}

const splitHeadsGradConfig: tf.GradConfig = {
  kernelName: K.splitHeads,
  gradFunc: (dy, _saved, attrs) => {
    const dys = Array.isArray(dy) ? dy : [dy];
    const withBias = attrs.withBias as boolean;
    // Computed here rather than in the per-input thunks: one kernel yields every input's gradient.
    let grads: tf.Tensor[];
    if (hasFusedKernel(K.splitHeadsGrad)) {
      const out = runFused(K.splitHeadsGrad, Object.fromEntries(dys.map((d, p) => [`grad${p}`, d])), attrs);
      grads = Array.isArray(out) ? out : [out];
    } else {
      const [batch, heads, len, headDim] = dys[0]!.shape as [number, number, number, number];
      const dY = tf.concat(dys.map((d) => tf.reshape(tf.transpose(d, [0, 2, 1, 3]), [batch * len, heads * headDim])), 1);
      grads = withBias ? [dY, tf.sum(dY, 0)] : [dY];
    }
    return Object.fromEntries(grads.map((g, i) => [i === 0 ? 'y' : 'bias', () => g]));
  },
};
