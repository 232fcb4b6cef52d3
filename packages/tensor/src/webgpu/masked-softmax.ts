/**
 * Attention's softmax(scores * scale + bias + causal mask) in one dispatch (one workgroup per
 * score row) where the composite runs a multiply, the mask additions and the softmax; and its
 * backward, scale * y * (dy - sum(dy * y)), in one dispatch where the composite runs four.
 * A causal mask is computed in the kernel (key j is hidden from query i when j > i + offset)
 * and adds the same -1e9 as the composite's mask tensor, so fully masked rows behave alike.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { f32, i32, rowProgram, rowWorkgroup, runProgram, treeReduce } from './program.js';

export const MASKED = -1e9;

/** Index strides of a 4-D bias broadcast to [batch, heads, q, kv] (0 along broadcast dims). */
export function broadcastStrides(biasShape: number[], q: number, kv: number): number[] {
  const [b, h, bq, bk] = biasShape as [number, number, number, number];
  const sk = bk === 1 ? 0 : 1;
  const sq = bq === 1 ? 0 : bk;
  const sh = h === 1 ? 0 : bq * bk;
  const sb = b === 1 ? 0 : h * bq * bk;
  if ((bq !== 1 && bq !== q) || (bk !== 1 && bk !== kv)) throw new Error(`masked softmax: bias [${biasShape}] does not broadcast to [.., .., ${q}, ${kv}]`);
  return [sb, sh, sq, sk];
}

const uniforms = 'scale : f32, rows : i32, heads : i32, q : i32, cols : i32, offset : i32, sb : i32, sh : i32, sq : i32, sk : i32,';

/**
 * SlScaledMaskedSoftmax (scores [batch, heads, q, kv], bias? broadcastable 4-D),
 * attrs { scale, causal, offset } -> probs like scores.
 */
export function maskedSoftmaxForward(backend: unknown, scores: tf.TensorInfo, bias: tf.TensorInfo | undefined, scale: number, causal: boolean, offset: number): tf.TensorInfo {
  const [batch, heads, q, kv] = scores.shape as [number, number, number, number];
  const rows = batch * heads * q;
  const wg = rowWorkgroup(kv);
  const strides = bias === undefined ? [0, 0, 0, 0] : broadcastStrides(bias.shape, q, kv);
  const biasIndex = '(row / (uniforms.heads * uniforms.q)) * uniforms.sb + ((row / uniforms.q) % uniforms.heads) * uniforms.sh + i * uniforms.sq';
  const z = `scores[base + c] * uniforms.scale${bias === undefined ? '' : ' + bias[biasBase + c * uniforms.sk]'}${causal ? ` + select(0.0, ${MASKED.toExponential()}, c > i + uniforms.offset)` : ''}`;
  const code = `
    var<workgroup> buf : array<f32, ${wg}>;
    fn z(base : i32, biasBase : i32, i : i32, c : i32) -> f32 {
      return ${z};
    }
    fn main(index : i32) {
      let row = index / ${wg};
      let tid = i32(localId.x);
      let cols = uniforms.cols;
      let valid = row < uniforms.rows;
      let base = row * cols;
      let i = row % uniforms.q;
      let biasBase = ${biasIndex};
      var m = -3.402823e+38;
      if (valid) { for (var c = tid; c < cols; c += ${wg}) { m = max(m, z(base, biasBase, i, c)); } }
      buf[tid] = m;
      ${treeReduce('buf', wg, (a, b) => `max(${a}, ${b})`)}
      let rowMax = buf[0];
      workgroupBarrier();
      var acc = 0.0;
      if (valid) { for (var c = tid; c < cols; c += ${wg}) { acc += exp(z(base, biasBase, i, c) - rowMax); } }
      buf[tid] = acc;
      ${treeReduce('buf', wg, (a, b) => `${a} + ${b}`)}
      let rowSum = buf[0];
      if (valid) {
        for (var c = tid; c < cols; c += ${wg}) { result[base + c] = exp(z(base, biasBase, i, c) - rowMax) / rowSum; }
      }
    }`;
  const names = bias === undefined ? ['scores'] : ['scores', 'bias'];
  const program = rowProgram(`slMaskedSoftmax_${bias !== undefined}_${causal}`, scores.shape, rows, names, uniforms, wg, code);
  const u = [f32(scale), i32(rows), i32(heads), i32(q), i32(kv), i32(offset), i32(strides[0]!), i32(strides[1]!), i32(strides[2]!), i32(strides[3]!)];
  return runProgram(backend, program, bias === undefined ? [scores] : [scores, bias], u);
}

/** SlScaledMaskedSoftmaxGrad (dy, y: [..., kv]), attrs { scale } -> scale * y * (dy - sum(dy * y)). */
export function maskedSoftmaxBackward(backend: unknown, dy: tf.TensorInfo, y: tf.TensorInfo, scale: number): tf.TensorInfo {
  const cols = y.shape[y.shape.length - 1]!;
  const rows = y.shape.reduce((a, b) => a * b, 1) / cols;
  const wg = rowWorkgroup(cols);
  const code = `
    var<workgroup> buf : array<f32, ${wg}>;
    fn main(index : i32) {
      let row = index / ${wg};
      let tid = i32(localId.x);
      let cols = uniforms.cols;
      let valid = row < uniforms.rows;
      let base = row * cols;
      var acc = 0.0;
      if (valid) { for (var c = tid; c < cols; c += ${wg}) { acc += dy[base + c] * y[base + c]; } }
      buf[tid] = acc;
      ${treeReduce('buf', wg, (a, b) => `${a} + ${b}`)}
      let s = buf[0];
      if (valid) {
        for (var c = tid; c < cols; c += ${wg}) { result[base + c] = uniforms.scale * y[base + c] * (dy[base + c] - s); }
      }
    }`;
  const program = rowProgram('slMaskedSoftmaxGrad', y.shape, rows, ['dy', 'y'], 'scale : f32, rows : i32, cols : i32,', wg, code);
  return runProgram(backend, program, [dy, y], [f32(scale), i32(rows), i32(cols)]);
}
