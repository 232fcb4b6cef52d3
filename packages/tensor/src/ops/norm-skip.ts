import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelNames as K } from '../webgpu/register.js';
import { hasFusedKernel, runFused } from './fused.js';
import { layerNorm } from './layer-norm.js';
import { rmsNorm } from './rms-norm.js';

/** Which norm branches off: LayerNorm (gamma and beta) or RMSNorm (gamma). */
export interface NormSkipOptions {
  center: boolean;
  gamma: tf.Tensor | undefined;
  beta?: tf.Tensor | undefined;
  eps: number;
}

/**
 * A pre-norm block's branch point, x + f(norm(x)): returns [skip, y] = [x, norm(x)], skip to be
 * added back after the sublayer. x: [..., dim], gamma/beta: [dim] -> [x, y], both [..., dim].
 *
 * Where the backend has the kernels (webgpu) and the norm is affine, this is one tape node whose
 * backward gets both gradients and adds the skip's to the norm's dx in the norm's own backward
 * kernel: one dispatch fewer than the add that accumulates x's gradient from its two uses. Skip is
 * then a new handle on x's data (no copy). Elsewhere skip is x itself and y the norm op, exactly
 * what the block computed before (the same gradients, summed in the same order).
 */
export function normWithSkip(x: tf.Tensor, o: NormSkipOptions): [tf.Tensor, tf.Tensor] {
  const affine = o.gamma !== undefined && (o.center ? o.beta !== undefined : o.beta === undefined);
  const name = o.center ? K.layerNormSkip : K.rmsNormSkip;
  if (affine && x.dtype === 'float32' && hasFusedKernel(name, normSkipGradConfig(name, o.center)) && hasFusedKernel(o.center ? K.layerNormGrad : K.rmsNormGrad)) {
    const inputs: Record<string, tf.Tensor> = o.center ? { x, gamma: o.gamma!, beta: o.beta! } : { x, gamma: o.gamma! };
    return runFused(name, inputs, { eps: o.eps }) as [tf.Tensor, tf.Tensor];
  }
  return [x, o.center ? layerNorm(x, o.gamma, o.beta, o.eps) : rmsNorm(x, o.gamma, o.eps)];
}

function normSkipGradConfig(name: string, center: boolean): tf.GradConfig {
  return {
    kernelName: name,
    inputsToSave: ['x', 'gamma'],
    gradFunc: (dys, saved, attrs) => {
      const [dSkip, dy] = dys as [tf.Tensor, tf.Tensor];
      const [x, gamma] = saved as [tf.Tensor, tf.Tensor];
      // dx = the norm's dx + dSkip, in the norm's dx kernel; dgamma (and dbeta) as the norm's.
      const [dx, dgamma, dbeta] = runFused(center ? K.layerNormGrad : K.rmsNormGrad, { dy, x, gamma, addend: dSkip }, { eps: attrs.eps as number }) as tf.Tensor[];
      return { x: () => dx!, gamma: () => dgamma!, ...(center ? { beta: () => dbeta! } : {}) };
    },
  };
}
