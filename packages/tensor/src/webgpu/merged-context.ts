/**
 * Attention's context written straight into the merged [batch, q, heads * dimV] layout by the
 * tiled matmul (its heads layout, ./matmul-program.ts), and its gradients read from it: the
 * Transpose before the output projection, and the one in its backward, are never run.
 * Used by ops/merged-context.ts only while `SL_WEBGPU_MATMUL` selects a tiling.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { selectedTiling, tiledMatMul } from './matmul.js';

const as = (t: tf.TensorInfo, shape: number[]): tf.TensorInfo => ({ dataId: t.dataId, shape, dtype: t.dtype });

function tiling() {
  const t = selectedTiling();
  if (t === undefined) throw new Error('SlMergedContext: needs SL_WEBGPU_MATMUL to select a tiled matmul');
  return t;
}

function must(out: tf.TensorInfo | undefined, what: string): tf.TensorInfo {
  if (out === undefined) throw new Error(`SlMergedContext: ${what} is outside what the tiled matmul takes`);
  return out;
}

/** SlMergedContext (p [B, H, q, kv], v [B, H, kv, dV]) -> [B, q, H * dV]: per head p v, heads side by side. */
export function mergedContextForward(backend: unknown, p: tf.TensorInfo, v: tf.TensorInfo): tf.TensorInfo {
  const [b, h, q, kv] = p.shape as [number, number, number, number];
  const dV = v.shape[3]!;
  // [B * H, q, dV] per head, laid out [B, q, H, dV]
  const out = must(tiledMatMul(backend, as(p, [b * h, q, kv]), as(v, [b * h, kv, dV]), tiling(), { heads: { out: h } }), `p [${p.shape}] v [${v.shape}]`);
  return as(out, [b, q, h * dV]);
}

/** SlMergedContextGrad (dy [B, q, H * dV], p, v) -> [dp = dy_h v^T, dv = p^T dy_h], dy_h being dy read per head. */
export function mergedContextBackward(backend: unknown, dy: tf.TensorInfo, p: tf.TensorInfo, v: tf.TensorInfo): tf.TensorInfo[] {
  const [b, h, q, kv] = p.shape as [number, number, number, number];
  const dV = v.shape[3]!;
  const t = tiling();
  const dyHeads = as(dy, [b * h, q, dV]);
  const dp = must(tiledMatMul(backend, dyHeads, as(v, [b * h, kv, dV]), t, { transposeB: true, heads: { a: h } }), `dy [${dy.shape}] v [${v.shape}]`);
  const dv = must(tiledMatMul(backend, as(p, [b * h, q, kv]), dyHeads, t, { transposeA: true, heads: { b: h } }), `p [${p.shape}] dy [${dy.shape}]`);
  return [as(dp, [b, h, q, kv]), as(dv, [b, h, kv, dV])];
}
