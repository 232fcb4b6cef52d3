import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelNames as K } from '../webgpu/register.js';
import { hasFusedKernel, runFused } from './fused.js';
import { scaledMaskedSoftmax, type MaskedSoftmaxOptions } from './masked-softmax.js';

/**
 * softmax(q k^T * scale + bias + causal mask) v: scaled dot-product attention over heads, with the
 * masks of `scaledMaskedSoftmax` (causal with an offset, an additive bias broadcast to the scores).
 * q: [batch, heads, q, dim], k: [batch, heads, kv, dim], v: [batch, heads, kv, dimV] ->
 * [batch, heads, q, dimV].
 *
 * Where the backend has the fused kernel (native), one kernel per direction, which with a causal
 * mask and no bias also skips the products the mask makes zero; the probabilities are its one
 * [batch, heads, q, kv] tensor, kept for the backward. Elsewhere (cpu, wasm, webgpu) it is
 * exactly the composite `matMul`, `scaledMaskedSoftmax`, `matMul`.
 */
export function scaledDotProductAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, o: MaskedSoftmaxOptions): tf.Tensor4D {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new Error(`scaledDotProductAttention: q, k, v must be [batch, heads, len, dim], got [${q.shape}], [${k.shape}], [${v.shape}]`);
  }
  const [batch, heads, qLen, dim] = q.shape as [number, number, number, number];
  const kvLen = k.shape[2]!;
  if (k.shape[0] !== batch || k.shape[1] !== heads || k.shape[3] !== dim || v.shape[0] !== batch || v.shape[1] !== heads || v.shape[2] !== kvLen) {
    throw new Error(`scaledDotProductAttention: k must be [${batch}, ${heads}, kv, ${dim}] and v [${batch}, ${heads}, kv, dimV] with k's kv, got k [${k.shape}], v [${v.shape}]`);
  }
  const bias = o.bias;
  const offset = o.offset ?? 0;
  const causal = o.causal === true;
  const fusable = [q, k, v, ...(bias === undefined ? [] : [bias])].every((t) => t.dtype === 'float32') && q.size > 0 && k.size > 0 && v.size > 0;
  const name = bias === undefined ? K.attention : K.attentionBias;
  if (fusable && hasFusedKernel(name, gradConfigs[name])) {
    if (bias !== undefined) {
      const ok = bias.rank === 4 && [batch, heads, qLen, kvLen].every((d, i) => bias.shape[i] === 1 || bias.shape[i] === d);
      if (!ok) throw new Error(`scaledDotProductAttention: bias [${bias.shape}] must be 4-D and broadcast to the scores [${batch},${heads},${qLen},${kvLen}]`);
    }
    const inputs: Record<string, tf.Tensor> = bias === undefined ? { q, k, v } : { q, k, v, bias };
    const [out, probs] = runFused(name, inputs, { scale: o.scale, causal, offset }) as tf.Tensor[];
    // The tape keeps its own reference for the backward.
    probs!.dispose();
    return out as tf.Tensor4D;
  }
  return scaledDotProductAttentionComposite(q, k, v, o);
}

/** The composite the op runs where the backend has no fused kernel: matMul, scaledMaskedSoftmax, matMul. */
export function scaledDotProductAttentionComposite(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, o: MaskedSoftmaxOptions): tf.Tensor4D {
  // scores: [batch, heads, q, kv] (k enters transposed through the matmul flag, not a Transpose)
  return tf.tidy(() => tf.matMul(scaledMaskedSoftmax(tf.matMul(q, k, false, true), o), v) as tf.Tensor4D);
}

// The gradients of SlAttention (inputs q, k, v) and SlAttentionBias (q, k, v, bias): two kernel
// names because the inputs a gradient saves are fixed per kernel.
function attentionGrad(kernelName: string, biased: boolean): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: biased ? ['q', 'k', 'v', 'bias'] : ['q', 'k', 'v'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const [q, k, v] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const bias = biased ? saved[3] : undefined;
      const probs = saved[saved.length - 1]!;
      const { scale, causal, offset } = attrs as unknown as { scale: number; causal: boolean; offset: number };
      // Computed here rather than in the per-input thunks: one kernel yields all three gradients.
      const [dq, dk, dv] = runFused(K.attentionGrad, { dy, q, k, v, probs }, { scale, causal, offset, biased }) as [tf.Tensor, tf.Tensor, tf.Tensor];
      return {
        q: () => dq,
        k: () => dk,
        v: () => dv,
        // Asked for only when the bias is on the backward's path (masks are constants):
        // d bias = p * (dp - sum(dp * p)) over its broadcast axes.
        bias: () => {
          const dp = tf.matMul(dy, v, false, true);
          const dz = tf.mul(probs, tf.sub(dp, tf.sum(tf.mul(dp, probs), -1, true)));
          const axes = bias!.shape.flatMap((d, i) => (d === 1 && dz.shape[i] !== 1 ? [i] : []));
          return axes.length === 0 ? dz : tf.sum(dz, axes, true);
        },
      };
    },
  };
}

const gradConfigs: Record<string, tf.GradConfig> = {
  [K.attention]: attentionGrad(K.attention, false),
  [K.attentionBias]: attentionGrad(K.attentionBias, true),
};
