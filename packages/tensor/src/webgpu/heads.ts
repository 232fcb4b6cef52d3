/**
 * Attention's head layout changes as WGSL programs. Forward: the fused q/k/v projection
 * [batch * len, parts * dModel] plus each part's bias becomes one [batch, heads, len, headDim]
 * tensor per part, one dispatch each (the composite adds the bias, slices each part out and
 * transposes it: ~8 dispatches for q/k/v). Backward: the parts' gradients are interleaved back
 * into [batch * len, parts * dModel] in one dispatch, and each bias gradient is one column sum.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { columnSumProgram, elementwiseProgram, i32, runProgram } from './program.js';

export interface HeadsLayout {
  batch: number;
  heads: number;
  /** Number of projections side by side in the input (3 for q/k/v, 2 for k/v, 1). */
  parts: number;
}

const uniforms = 'len : i32, heads : i32, headDim : i32, parts : i32, part : i32,';

/** SlSplitHeads (y [batch * len, parts * dModel], bias0..: [dModel] each or none), attrs HeadsLayout -> parts x [batch, heads, len, headDim]. */
export function splitHeadsForward(backend: unknown, y: tf.TensorInfo, biases: tf.TensorInfo[], l: HeadsLayout): tf.TensorInfo[] {
  const [rows, width] = y.shape as [number, number];
  const len = rows / l.batch;
  const headDim = width / l.parts / l.heads;
  const withBias = biases.length > 0;
  const code = `
    fn main(index : i32) {
      if (index < uniforms.size) {
        let d = index % uniforms.headDim;
        let l = (index / uniforms.headDim) % uniforms.len;
        let h = (index / (uniforms.headDim * uniforms.len)) % uniforms.heads;
        let b = index / (uniforms.headDim * uniforms.len * uniforms.heads);
        let width = uniforms.parts * uniforms.heads * uniforms.headDim;
        let col = h * uniforms.headDim + d;
        let v = y[(b * uniforms.len + l) * width + uniforms.part * uniforms.heads * uniforms.headDim + col];
        result[index] = ${withBias ? 'v + bias[col]' : 'v'};
      }
    }`;
  const out: tf.TensorInfo[] = [];
  for (let p = 0; p < l.parts; p++) {
    const program = elementwiseProgram(`slSplitHeads_${withBias}`, [l.batch, l.heads, len, headDim], withBias ? ['y', 'bias'] : ['y'], uniforms, code);
    out.push(runProgram(backend, program, withBias ? [y, biases[p]!] : [y], [i32(len), i32(l.heads), i32(headDim), i32(l.parts), i32(p)]));
  }
  return out;
}

/** SlSplitHeadsGrad (grad0.. [batch, heads, len, headDim] each), attrs HeadsLayout -> [dY [batch * len, parts * dModel], dBias0..] (bias grads with attrs.withBias). */
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
  const u = [i32(len), i32(heads), i32(headDim), i32(l.parts), i32(0)];
  const rows = batch * len;
  const dY = runProgram(backend, elementwiseProgram(`slMergeHeads_${dys.length}`, [rows, l.parts * dModel], names, uniforms, code), dys, u);
  if (!withBias) return [dY];
  const out = [dY];
  const term = 'x[r * uniforms.width + uniforms.offset + j]';
  for (let p = 0; p < l.parts; p++) {
    const program = columnSumProgram('slHeadsBiasGrad', dModel, ['x'], 'rows : i32, cols : i32, width : i32, offset : i32,', term);
    out.push(runProgram(backend, program, [dY], [i32(rows), i32(dModel), i32(l.parts * dModel), i32(p * dModel)]));
  }
  return out;
}
