import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelNames as K } from '../webgpu/register.js';
import { hasFusedKernel, runFused } from './fused.js';

/**
 * Mean token cross-entropy of softmax(logits) against integer targets, or with `gamma` > 0 the
 * mean focal loss -(1 - p)^gamma log p (Lin et al. 2017; p = softmax(logits)[target]).
 * logits: [..., vocab], targets: int32 [...] (same leading shape) -> scalar.
 * Targets equal to `ignoreIndex` do not count. One fused kernel (forward and backward, no
 * one-hot tensor) where the backend has it (native, webgpu), else the composite ops.
 */
export function softmaxCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, ignoreIndex = -1, gamma = 0): tf.Scalar {
  const vocab = logits.shape[logits.rank - 1]!;
  if (logits.size / vocab !== targets.size) {
    throw new Error(`crossEntropy: logits [${logits.shape}] need one target per row of ${vocab}, but targets are [${targets.shape}]`);
  }
  if (!(gamma >= 0)) throw new Error(`focal loss: gamma must be >= 0, got ${gamma}`);
  if (logits.dtype === 'float32' && targets.dtype === 'int32' && hasFusedKernel(K.crossEntropy, crossEntropyGradConfig)) {
    return tf.tidy(() => runFused(K.crossEntropy, { logits: tf.reshape(logits, [-1, vocab]), targets: tf.reshape(targets, [-1]) }, { ignoreIndex, gamma }) as tf.Scalar);
  }
  return tf.tidy(() => {
    const flat = tf.reshape(logits, [-1, vocab]);
    const t = tf.reshape(targets, [-1]);
    const valid = tf.cast(tf.notEqual(t, ignoreIndex), 'float32');
    // One-hot keeps the backward pass to element-wise ops (no gather gradient needed).
    const onehot = tf.oneHot(tf.maximum(t, tf.scalar(0, 'int32')) as tf.Tensor1D, vocab);
    const logp = tf.sum(tf.mul(tf.logSoftmax(flat), onehot), 1);
    let perRow = tf.neg(logp);
    if (gamma !== 0) {
      perRow = tf.mul(tf.pow(oneMinusP(tf.exp(logp)), gamma), perRow);
    }
    return tf.div(tf.sum(tf.mul(perRow, valid)), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
  });
}

// The floor of 1 - p in the composite focal loss: p rounds to 1 (or above by an ulp) on a
// near-certain target, and pow's gradient at 0 is infinite for gamma < 1 (0 * inf is NaN, even
// where a mask would discard it). At the floor the row's loss and gradient are ~0 anyway.
const ONE_MINUS_P_FLOOR = 1e-30;

/** max(1 - p, floor). p: [rows] -> [rows]. */
function oneMinusP(p: tf.Tensor): tf.Tensor {
  return tf.maximum(tf.sub(1, p), ONE_MINUS_P_FLOOR);
}

/**
 * d loss / d logits as composite ops (the fused gradient's fallback):
 * (softmax(logits) - onehot) * w * valid * dy / max(valid count, 1), where w is 1 for
 * cross-entropy (gamma 0) and for focal loss, with u = 1 - p, u^gamma + gamma p u^(gamma - 1) (-log p)
 * (0 where u is at its floor). dy: scalar, logits: [rows, vocab], targets: int32 [rows] -> [rows, vocab].
 */
export function crossEntropyGradComposite(dy: tf.Tensor, logits: tf.Tensor, targets: tf.Tensor, ignoreIndex: number, gamma = 0): tf.Tensor {
  return tf.tidy(() => {
    const vocab = logits.shape[1]!;
    const valid = tf.cast(tf.notEqual(targets, ignoreIndex), 'float32');
    const onehot = tf.oneHot(tf.maximum(targets, tf.scalar(0, 'int32')) as tf.Tensor1D, vocab);
    // Rows whose target is >= vocab have an all-zero one-hot and, like the composite loss, no gradient.
    let active = tf.mul(valid, tf.sum(onehot, 1));
    const probs = tf.softmax(logits);
    if (gamma !== 0) {
      const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), 1));
      const p = tf.exp(tf.neg(nll));
      const u = oneMinusP(p);
      const w = tf.add(tf.pow(u, gamma), tf.mul(tf.mul(tf.mul(p, tf.pow(u, gamma - 1)), nll), gamma));
      active = tf.mul(active, tf.where(tf.greater(u, ONE_MINUS_P_FLOOR), w, tf.zerosLike(w)));
    }
    const scale = tf.div(dy, tf.maximum(tf.sum(valid), 1));
    return tf.mul(tf.sub(probs, onehot), tf.reshape(tf.mul(active, scale), [-1, 1]));
  });
}

const crossEntropyGradConfig: tf.GradConfig = {
  kernelName: K.crossEntropy,
  inputsToSave: ['logits', 'targets'],
  gradFunc: (dy, saved, attrs) => {
    const [logits, targets] = saved as [tf.Tensor, tf.Tensor];
    const { ignoreIndex, gamma } = attrs as { ignoreIndex: number; gamma: number };
    return {
      logits: () =>
        hasFusedKernel(K.crossEntropyGrad)
          ? (runFused(K.crossEntropyGrad, { dy: dy as tf.Tensor, logits, targets }, { ignoreIndex, gamma }) as tf.Tensor)
          : crossEntropyGradComposite(dy as tf.Tensor, logits, targets, ignoreIndex, gamma),
      targets: () => tf.zerosLike(targets),
    };
  },
};
