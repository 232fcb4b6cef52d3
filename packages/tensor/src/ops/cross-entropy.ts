import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelNames as K } from '../webgpu/register.js';
import { hasFusedKernel, runFused } from './fused.js';

/**
 * Mean token cross-entropy of softmax(logits) against integer targets.
 * logits: [..., vocab], targets: int32 [...] (same leading shape) -> scalar.
 * Targets equal to `ignoreIndex` do not count. One fused kernel (forward and backward, no
 * one-hot tensor) where the backend has it (webgpu), else the composite ops.
 */
export function softmaxCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, ignoreIndex = -1): tf.Scalar {
  const vocab = logits.shape[logits.rank - 1]!;
  if (logits.size / vocab !== targets.size) {
    throw new Error(`crossEntropy: logits [${logits.shape}] need one target per row of ${vocab}, but targets are [${targets.shape}]`);
  }
  if (logits.dtype === 'float32' && targets.dtype === 'int32' && hasFusedKernel(K.crossEntropy, crossEntropyGradConfig)) {
    return tf.tidy(() => runFused(K.crossEntropy, { logits: tf.reshape(logits, [-1, vocab]), targets: tf.reshape(targets, [-1]) }, { ignoreIndex }) as tf.Scalar);
  }
  return tf.tidy(() => {
    const flat = tf.reshape(logits, [-1, vocab]);
    const t = tf.reshape(targets, [-1]);
    const valid = tf.cast(tf.notEqual(t, ignoreIndex), 'float32');
    // One-hot keeps the backward pass to element-wise ops (no gather gradient needed).
    const onehot = tf.oneHot(tf.maximum(t, tf.scalar(0, 'int32')) as tf.Tensor1D, vocab);
    const logp = tf.logSoftmax(flat);
    const nll = tf.neg(tf.sum(tf.mul(logp, onehot), 1));
    return tf.div(tf.sum(tf.mul(nll, valid)), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
  });
}

/**
 * d loss / d logits as composite ops (the fused gradient's fallback):
 * (softmax(logits) - onehot) * valid * dy / max(valid count, 1).
 * dy: scalar, logits: [rows, vocab], targets: int32 [rows] -> [rows, vocab].
 */
export function crossEntropyGradComposite(dy: tf.Tensor, logits: tf.Tensor, targets: tf.Tensor, ignoreIndex: number): tf.Tensor {
  return tf.tidy(() => {
    const vocab = logits.shape[1]!;
    const valid = tf.cast(tf.notEqual(targets, ignoreIndex), 'float32');
    const onehot = tf.oneHot(tf.maximum(targets, tf.scalar(0, 'int32')) as tf.Tensor1D, vocab);
    // Rows whose target is >= vocab have an all-zero one-hot and, like the composite loss, no gradient.
    const active = tf.mul(valid, tf.sum(onehot, 1));
    const scale = tf.div(dy, tf.maximum(tf.sum(valid), 1));
    return tf.mul(tf.sub(tf.softmax(logits), onehot), tf.reshape(tf.mul(active, scale), [-1, 1]));
  });
}

const crossEntropyGradConfig: tf.GradConfig = {
  kernelName: K.crossEntropy,
  inputsToSave: ['logits', 'targets'],
  gradFunc: (dy, saved, attrs) => {
    const [logits, targets] = saved as [tf.Tensor, tf.Tensor];
    const ignoreIndex = attrs.ignoreIndex as number;
    return {
      logits: () =>
        hasFusedKernel(K.crossEntropyGrad)
          ? (runFused(K.crossEntropyGrad, { dy: dy as tf.Tensor, logits, targets }, { ignoreIndex }) as tf.Tensor)
          : crossEntropyGradComposite(dy as tf.Tensor, logits, targets, ignoreIndex),
      targets: () => tf.zerosLike(targets),
    };
  },
};
