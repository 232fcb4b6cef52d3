/**
 * Attention's head layout changes as WGSL kernels. Forward: the fused q/k/v projection
 * [batch * len, parts * dModel] plus its bias [parts * dModel] becomes one [batch, heads, len,
 * headDim] tensor per part, all in one dispatch (the composite adds the bias, slices each part out
 * and transposes it: ~7 dispatches for q/k/v). Backward: the parts' gradients are interleaved back
 * into [batch * len, parts * dModel] in one dispatch, and the bias gradient is one more.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { elementwiseProgram, i32, runProgram } from './program.js';
import { biasGrad } from './gelu.js';
import { i32u, rawBackend, rawOutput, runRaw, type BackendInternals } from './raw.js';

export interface HeadsLayout {
  batch: number;
  heads: number;
  /** Number of projections side by side in the input (3 for q/k/v, 2 for k/v, 1). */
  parts: number;
}

const mergeUniforms = 'len : i32, heads : i32, headDim : i32, parts : i32,';

/** SlSplitHeads (y [batch * len, parts * dModel], bias [parts * dModel] or none), attrs HeadsLayout -> parts x [batch, heads, len, headDim]. */
export function splitHeadsForward(backend: unknown, y: tf.TensorInfo, bias: tf.TensorInfo | undefined, l: HeadsLayout): tf.TensorInfo[] {
  const [rows, width] = y.shape as [number, number];
  const len = rows / l.batch;
  const headDim = width / l.parts / l.heads;
  return splitHeadsRaw(rawBackend(backend), y, bias, l, len, headDim);
}

/** SlSplitHeadsGrad (grad0.. [batch, heads, len, headDim] each), attrs HeadsLayout -> [dY [batch * len, parts * dModel], dBias [parts * dModel] with attrs.withBias]. */
export function splitHeadsBackward(backend: unknown, dys: tf.TensorInfo[], l: HeadsLayout, withBias: boolean): tf.TensorInfo[] {
  const [batch, heads, len, headDim] = dys[0]!.shape as [number, number, number, number];
  const dModel = heads * headDim;
  // Not d0, d1, ...: the backend's generated helpers use those names for coordinates.
  const names = dys.map((_, p) => `grad${p}`);
  const pick = names.map((n, p) => `if (p == ${p}) { v = ${n}[src]; }`).join(' else ');
  const code = `
    fn main(index : i32) {
      if (index < uniforms.size) {
        let width = uniforms.parts * uniforms.heads * uniforms.headDim;
        let r = index / width;
        let c = index % width;
        let dModel = uniforms.heads * uniforms.headDim;
        let p = c / dModel;
        let h = (c % dModel) / uniforms.headDim;
        let d = c % uniforms.headDim;
        let b = r / uniforms.len;
        let l = r % uniforms.len;
        let src = ((b * uniforms.heads + h) * uniforms.len + l) * uniforms.headDim + d;
        var v = 0.0;
        ${pick}
        result[index] = v;
      }
    }`;
  const u = [i32(len), i32(heads), i32(headDim), i32(l.parts)];
  const rows = batch * len;
  const dY = runProgram(backend, elementwiseProgram(`slMergeHeads_${dys.length}`, [rows, l.parts * dModel], names, mergeUniforms, code), dys, u);
  return withBias ? [dY, biasGrad(backend, dY, rows, l.parts * dModel)] : [dY];
}

// All parts in one dispatch: each thread writes element `i` of every part's head tensor.
function splitHeadsRaw(b: BackendInternals, y: tf.TensorInfo, bias: tf.TensorInfo | undefined, l: HeadsLayout, len: number, headDim: number): tf.TensorInfo[] {
  const size = l.batch * l.heads * len * headDim;
  const outs = Array.from({ length: l.parts }, () => rawOutput(b, [l.batch, l.heads, len, headDim]));
  const withBias = bias !== undefined;
  const writes = outs.map((_, p) => `out${p}[i] = y[src + ${p} * dModel]${withBias ? ` + bias[col + ${p} * dModel]` : ''};`);
  runRaw(b, {
    key: `slSplitHeads_${l.parts}_${withBias}`,
    bindings: [
      { name: 'y', tensor: y },
      ...(bias === undefined ? [] : [{ name: 'bias', tensor: bias }]),
      ...outs.map((t, p) => ({ name: `out${p}`, tensor: t, write: true })),
    ],
    uniforms: [['size : i32', i32u(size)], ['len : i32', i32u(len)], ['heads : i32', i32u(l.heads)], ['headDim : i32', i32u(headDim)]],
    workgroupSize: 64,
    workgroups: Math.ceil(size / 64),
    body: `
  let i = group * 64 + tid;
  if (i >= u.size) { return; }
  let d = i % u.headDim;
  let l = (i / u.headDim) % u.len;
  let h = (i / (u.headDim * u.len)) % u.heads;
  let b = i / (u.headDim * u.len * u.heads);
  let dModel = u.heads * u.headDim;
  let col = h * u.headDim + d;
  let src = (b * u.len + l) * ${l.parts} * dModel + col;
  ${writes.join('\n  ')}`,
  });
  return outs;
}
