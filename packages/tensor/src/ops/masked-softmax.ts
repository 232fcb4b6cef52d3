import * as tf from '@tensorflow/tfjs-core';
import { MASKED } from '../webgpu/masked-softmax.js';

export { MASKED };
import { fusedKernelNames as K } from '../webgpu/register.js';
import { hasFusedKernel, runFused } from './fused.js';

export interface MaskedSoftmaxOptions {
  /** Multiplies the scores first (attention: 1/sqrt(headDim)). */
  scale: number;
  /** Key j is hidden from query i when j > i + offset. */
  causal?: boolean;
  /** Causal offset (the KV-cache length during incremental decoding); default 0. */
  offset?: number;
  /** Additive bias broadcastable to the scores as 4-D [batch|1, heads|1, q|1, kv|1]. */
  bias?: tf.Tensor;
}

/**
 * softmax(scores * scale + bias + causal mask) over the last axis, masked entries adding -1e9.
 * scores: [batch, heads, q, kv] -> probs of the same shape. One fused kernel (and one for its
 * backward) where the backend has it (webgpu), else the composite ops.
 */
export function scaledMaskedSoftmax(scores: tf.Tensor, o: MaskedSoftmaxOptions): tf.Tensor {
  if (scores.rank !== 4) throw new Error(`scaledMaskedSoftmax: scores must be [batch, heads, q, kv], got [${scores.shape}]`);
  const [batch, heads, q, kv] = scores.shape as [number, number, number, number];
  const offset = o.offset ?? 0;
  const causal = o.causal === true;
  const bias = o.bias;
  if (bias !== undefined) {
    const ok = bias.rank === 4 && [batch, heads, q, kv].every((d, i) => bias.shape[i] === 1 || bias.shape[i] === d);
    if (!ok) throw new Error(`scaledMaskedSoftmax: bias [${bias.shape}] must be 4-D and broadcast to scores [${scores.shape}]`);
  }
  if (scores.dtype === 'float32' && (bias === undefined || bias.dtype === 'float32') && hasFusedKernel(K.maskedSoftmax, maskedSoftmaxGradConfig)) {
    const inputs: Record<string, tf.Tensor> = bias === undefined ? { scores } : { scores, bias };
    return runFused(K.maskedSoftmax, inputs, { scale: o.scale, causal, offset, biasShape: bias?.shape ?? [] }) as tf.Tensor;
  }
  return tf.tidy(() => {
    let z = tf.mul(scores, o.scale);
    const parts: tf.Tensor[] = [];
    if (causal) parts.push(causalBias(q, kv, offset));
    if (bias !== undefined) parts.push(bias);
    if (parts.length > 0) z = tf.add(z, parts.reduce((a, b) => tf.add(a, b)));
    return tf.softmax(z, -1);
  });
}

/** [1, 1, q, kv]: 0 where key j is visible to query i (j <= i + offset), -1e9 elsewhere. */
export function causalBias(q: number, kv: number, offset: number): tf.Tensor4D {
  const m = new Float32Array(q * kv);
  for (let i = 0; i < q; i++) for (let j = 0; j < kv; j++) m[i * kv + j] = j <= offset + i ? 0 : MASKED;
  return tf.tensor4d(m, [1, 1, q, kv]);
}

/** y * (dy - sum(dy * y)) over the last axis: the softmax backward before the scale. */
function softmaxBackward(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.mul(y, tf.sub(dy, tf.sum(tf.mul(dy, y), -1, true)));
}

const maskedSoftmaxGradConfig: tf.GradConfig = {
  kernelName: K.maskedSoftmax,
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [y] = saved as [tf.Tensor];
    const scale = attrs.scale as number;
    const biasShape = attrs.biasShape as number[];
    return {
      scores: () =>
        hasFusedKernel(K.maskedSoftmaxGrad)
          ? (runFused(K.maskedSoftmaxGrad, { dy: dy as tf.Tensor, y }, { scale }) as tf.Tensor)
          : tf.mul(softmaxBackward(dy as tf.Tensor, y), scale),
      bias: () => {
        const dz = softmaxBackward(dy as tf.Tensor, y);
        const axes = biasShape.flatMap((d, i) => (d === 1 && y.shape[i] !== 1 ? [i] : []));
        return axes.length === 0 ? dz : tf.sum(dz, axes, true);
      },
    };
  },
};
