/**
 * One AdamW step for one parameter in three element-wise dispatches (new m, new v, new p; the
 * p program recomputes m and v inline from the old moments) where the composite takes ~14.
 * The arithmetic follows the composite op for op (same order, same f32 constants), so results
 * agree to rounding.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { elementwiseProgram, f32, runProgram } from './program.js';

export interface AdamWScalars {
  beta1: number;
  beta2: number;
  eps: number;
  lr: number;
  /** 1 - beta1^t and 1 - beta2^t. */
  bc1: number;
  bc2: number;
  /** 1 - lr * weightDecay for decayed parameters, 1 otherwise. */
  decay: number;
}

const uniforms = 'beta1 : f32, oneMinusBeta1 : f32, beta2 : f32, oneMinusBeta2 : f32, bc1 : f32, bc2 : f32, eps : f32, lr : f32, decay : f32,';
const mNew = 'm[index] * uniforms.beta1 + g[index] * uniforms.oneMinusBeta1';
const vNew = 'v[index] * uniforms.beta2 + (g[index] * g[index]) * uniforms.oneMinusBeta2';

function body(expr: string): string {
  return `
    fn main(index : i32) {
      if (index < uniforms.size) {
        ${expr}
      }
    }`;
}

/** SlAdamW (p, m, v, g), attrs AdamWScalars -> [p', m', v'] (all shaped like p). */
export function adamwStep(backend: unknown, p: tf.TensorInfo, m: tf.TensorInfo, v: tf.TensorInfo, g: tf.TensorInfo, s: AdamWScalars): tf.TensorInfo[] {
  const u = [f32(s.beta1), f32(1 - s.beta1), f32(s.beta2), f32(1 - s.beta2), f32(s.bc1), f32(s.bc2), f32(s.eps), f32(s.lr), f32(s.decay)];
  const pCode = body(`
        let mN = ${mNew};
        let vN = ${vNew};
        let update = (mN / uniforms.bc1) / (sqrt(vN / uniforms.bc2) + uniforms.eps);
        result[index] = p[index] * uniforms.decay - update * uniforms.lr;`);
  const pNew = runProgram(backend, elementwiseProgram('slAdamWParam', p.shape, ['p', 'm', 'v', 'g'], uniforms, pCode), [p, m, v, g], u);
  const mOut = runProgram(backend, elementwiseProgram('slAdamWM', p.shape, ['m', 'g'], uniforms, body(`result[index] = ${mNew};`)), [m, g], u);
  const vOut = runProgram(backend, elementwiseProgram('slAdamWV', p.shape, ['v', 'g'], uniforms, body(`result[index] = ${vNew};`)), [v, g], u);
  return [pNew, mOut, vOut];
}
