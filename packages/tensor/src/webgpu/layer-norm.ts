/**
 * LayerNorm over the last dim as WGSL programs: the forward pass in one dispatch (one workgroup
 * per row: mean, variance and the normalised row), the backward pass in one (no affine) or four
 * (per-row stats, dx, dgamma, dbeta) where the composite ops take ~30.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { columnSumProgram, f32, i32, rowProgram, rowWorkgroup, runProgram, treeReduce, type WebgpuProgram } from './program.js';

const rowUniforms = 'eps : f32, rows : i32, cols : i32,';

// Mean and 1/sqrt(var + eps) of row `row` of x into `mean`, `rstd` (two passes, like the composite).
function statsSnippet(wg: number): string {
  return `
      var acc = 0.0;
      if (valid) { for (var c = tid; c < cols; c += ${wg}) { acc += x[base + c]; } }
      buf[tid] = acc;
      ${treeReduce('buf', wg, (a, b) => `${a} + ${b}`)}
      let mean = buf[0] / f32(cols);
      workgroupBarrier();
      acc = 0.0;
      if (valid) { for (var c = tid; c < cols; c += ${wg}) { let d = x[base + c] - mean; acc += d * d; } }
      buf[tid] = acc;
      ${treeReduce('buf', wg, (a, b) => `${a} + ${b}`)}
      let rstd = inverseSqrt(buf[0] / f32(cols) + uniforms.eps);
      workgroupBarrier();`;
}

function rowHeader(wg: number): string {
  return `
      let row = index / ${wg};
      let tid = i32(localId.x);
      let cols = uniforms.cols;
      let valid = row < uniforms.rows;
      let base = row * cols;`;
}

// x: [rows, cols] (any leading shape), gamma/beta: [cols] -> y like x
function forwardProgram(shape: number[], rows: number, cols: number, affine: boolean): WebgpuProgram {
  const wg = rowWorkgroup(cols);
  const code = `
    var<workgroup> buf : array<f32, ${wg}>;
    fn main(index : i32) {
      ${rowHeader(wg)}
      ${statsSnippet(wg)}
      if (valid) {
        for (var c = tid; c < cols; c += ${wg}) {
          let y = (x[base + c] - mean) * rstd;
          result[base + c] = ${affine ? 'y * gamma[c] + beta[c]' : 'y'};
        }
      }
    }`;
  return rowProgram(`slLayerNorm_${affine}`, shape, rows, affine ? ['x', 'gamma', 'beta'] : ['x'], rowUniforms, wg, code);
}

// stats: [rows, 2] = (mean, rstd) per row
function statsProgram(rows: number, cols: number): WebgpuProgram {
  const wg = rowWorkgroup(cols);
  const code = `
    var<workgroup> buf : array<f32, ${wg}>;
    fn main(index : i32) {
      ${rowHeader(wg)}
      ${statsSnippet(wg)}
      if (valid && tid == 0) {
        result[row * 2] = mean;
        result[row * 2 + 1] = rstd;
      }
    }`;
  return rowProgram('slLayerNormStats', [rows, 2], rows, ['x'], rowUniforms, wg, code);
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma
function dxProgram(shape: number[], rows: number, cols: number, affine: boolean): WebgpuProgram {
  const wg = rowWorkgroup(cols);
  const g = affine ? 'dy[base + c] * gamma[c]' : 'dy[base + c]';
  const code = `
    var<workgroup> buf : array<f32, ${wg}>;
    var<workgroup> buf2 : array<f32, ${wg}>;
    fn main(index : i32) {
      ${rowHeader(wg)}
      ${statsSnippet(wg)}
      var s1 = 0.0;
      var s2 = 0.0;
      if (valid) {
        for (var c = tid; c < cols; c += ${wg}) {
          let g = ${g};
          s1 += g;
          s2 += g * (x[base + c] - mean) * rstd;
        }
      }
      buf[tid] = s1;
      buf2[tid] = s2;
      workgroupBarrier();
      for (var s = ${wg / 2}; s > 0; s = s >> 1) {
        if (tid < s) {
          buf[tid] = buf[tid] + buf[tid + s];
          buf2[tid] = buf2[tid] + buf2[tid + s];
        }
        workgroupBarrier();
      }
      let m1 = buf[0] / f32(cols);
      let m2 = buf2[0] / f32(cols);
      if (valid) {
        for (var c = tid; c < cols; c += ${wg}) {
          let xhat = (x[base + c] - mean) * rstd;
          result[base + c] = rstd * (${g} - m1 - xhat * m2);
        }
      }
    }`;
  return rowProgram(`slLayerNormDx_${affine}`, shape, rows, affine ? ['dy', 'x', 'gamma'] : ['dy', 'x'], rowUniforms, wg, code);
}

// Column sums over rows: dgamma = sum(dy * xhat), dbeta = sum(dy). -> [cols]
function paramGradProgram(cols: number, which: 'gamma' | 'beta'): WebgpuProgram {
  const term = which === 'gamma' ? 'dy[r * uniforms.cols + j] * (x[r * uniforms.cols + j] - stats[r * 2]) * stats[r * 2 + 1]' : 'dy[r * uniforms.cols + j]';
  return columnSumProgram(`slLayerNormParamGrad_${which}`, cols, which === 'gamma' ? ['dy', 'x', 'stats'] : ['dy'], 'rows : i32, cols : i32,', term);
}

function dims(x: tf.TensorInfo): { rows: number; cols: number } {
  const cols = x.shape[x.shape.length - 1]!;
  return { rows: x.shape.reduce((a, b) => a * b, 1) / cols, cols };
}

/** SlLayerNorm (x, gamma, beta) / SlLayerNormPlain (x), attrs { eps } -> y. */
export function layerNormForward(backend: unknown, x: tf.TensorInfo, affine: { gamma: tf.TensorInfo; beta: tf.TensorInfo } | undefined, eps: number): tf.TensorInfo {
  const { rows, cols } = dims(x);
  const inputs = affine === undefined ? [x] : [x, affine.gamma, affine.beta];
  return runProgram(backend, forwardProgram(x.shape, rows, cols, affine !== undefined), inputs, [f32(eps), i32(rows), i32(cols)]);
}

/** SlLayerNormGrad (dy, x, gamma?), attrs { eps } -> [dx] or [dx, dgamma, dbeta]. */
export function layerNormBackward(backend: unknown, dy: tf.TensorInfo, x: tf.TensorInfo, gamma: tf.TensorInfo | undefined, eps: number): tf.TensorInfo[] {
  const { rows, cols } = dims(x);
  const u = [f32(eps), i32(rows), i32(cols)];
  const dx = runProgram(backend, dxProgram(x.shape, rows, cols, gamma !== undefined), gamma === undefined ? [dy, x] : [dy, x, gamma], u);
  if (gamma === undefined) return [dx];
  const stats = runProgram(backend, statsProgram(rows, cols), [x], u);
  const dgamma = runProgram(backend, paramGradProgram(cols, 'gamma'), [dy, x, stats], [i32(rows), i32(cols)]);
  const dbeta = runProgram(backend, paramGradProgram(cols, 'beta'), [dy], [i32(rows), i32(cols)]);
  (backend as { disposeData(id: unknown): void }).disposeData(stats.dataId);
  return [dx, dgamma, dbeta];
}
