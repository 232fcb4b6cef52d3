/**
 * LayerNorm and RMSNorm over the last dim as WGSL programs: the forward pass in one dispatch
 * (one workgroup per row: statistics and the normalised row), the backward pass in one without
 * affine parameters, else two (dx with per-row stats, then dgamma with dbeta) where the
 * composite ops take ~25. RMSNorm is the same computation without centring (mean taken as 0) or beta.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { f32, i32, rowProgram, rowWorkgroup, runProgram, treeReduce, type WebgpuProgram } from './program.js';
import { f32u, i32u, rawBackend, rawOutput, runColumnSums, runRaw, type RawKernel } from './raw.js';

/** Which norm: LayerNorm centres rows (and may have beta), RMSNorm does not. */
export interface NormVariant {
  center: boolean;
  gamma: boolean;
  beta: boolean;
}

const rowUniforms = 'eps : f32, rows : i32, cols : i32,';

const key = (v: NormVariant) => `${v.center ? 'ln' : 'rms'}${v.gamma ? 'G' : ''}${v.beta ? 'B' : ''}`;

// Row `row` of x: `mean` (0 without centring) and `rstd` = 1/sqrt(mean((x - mean)^2) + eps), in two passes like the composite.
function statsSnippet(wg: number, center: boolean, U = 'uniforms'): string {
  const mean = center
    ? `
      var acc = 0.0;
      if (valid) { for (var c = tid; c < cols; c += ${wg}) { acc += x[base + c]; } }
      buf[tid] = acc;
      ${treeReduce('buf', wg, (a, b) => `${a} + ${b}`)}
      let mean = buf[0] / f32(cols);
      workgroupBarrier();
      acc = 0.0;`
    : `
      let mean = 0.0;
      var acc = 0.0;`;
  return `${mean}
      if (valid) { for (var c = tid; c < cols; c += ${wg}) { let d = x[base + c] - mean; acc += d * d; } }
      buf[tid] = acc;
      ${treeReduce('buf', wg, (a, b) => `${a} + ${b}`)}
      let rstd = inverseSqrt(buf[0] / f32(cols) + ${U}.eps);
      workgroupBarrier();`;
}

// `tid` is the local index (the program wrapper defines it from localId, a raw kernel has it).
function rowHeader(wg: number, U = 'uniforms'): string {
  return `
      let row = index / ${wg};
      let cols = ${U}.cols;
      let valid = row < ${U}.rows;
      let base = row * cols;`;
}

// x: [rows, cols] (any leading shape), gamma/beta: [cols] -> y like x
function forwardProgram(shape: number[], rows: number, cols: number, v: NormVariant): WebgpuProgram {
  const wg = rowWorkgroup(cols);
  const y = `(x[base + c] - mean) * rstd${v.gamma ? ' * gamma[c]' : ''}${v.beta ? ' + beta[c]' : ''}`;
  const code = `
    var<workgroup> buf : array<f32, ${wg}>;
    fn main(index : i32) {
      let tid = i32(localId.x);
      ${rowHeader(wg)}
      ${statsSnippet(wg, v.center)}
      if (valid) {
        for (var c = tid; c < cols; c += ${wg}) { result[base + c] = ${y}; }
      }
    }`;
  const names = ['x', ...(v.gamma ? ['gamma'] : []), ...(v.beta ? ['beta'] : [])];
  return rowProgram(`slNorm_${key(v)}`, shape, rows, names, rowUniforms, wg, code);
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma (no mean(g) term without
// centring), plus `addend` (the gradient x also gets from a skip connection) where given; with
// gamma also the row's (mean, rstd) into stats [rows, 2] for the dgamma sums.
function dxKernel(
  x: tf.TensorInfo, dy: tf.TensorInfo, gamma: tf.TensorInfo | undefined, addend: tf.TensorInfo | undefined, dx: tf.TensorInfo, stats: tf.TensorInfo | undefined,
  rows: number, cols: number, eps: number, center: boolean,
): RawKernel {
  const wg = rowWorkgroup(cols);
  const g = gamma !== undefined ? 'dy[base + c] * gamma[c]' : 'dy[base + c]';
  const body = `
      let index = group * ${wg} + tid;
      ${rowHeader(wg, 'u')}
      ${statsSnippet(wg, center, 'u')}
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
      let m1 = ${center ? 'buf[0] / f32(cols)' : '0.0'};
      let m2 = buf2[0] / f32(cols);
      if (valid) {
        for (var c = tid; c < cols; c += ${wg}) {
          let xhat = (x[base + c] - mean) * rstd;
          dx[base + c] = rstd * (${g} - m1 - xhat * m2)${addend === undefined ? '' : ' + addend[base + c]'};
        }
        ${stats === undefined ? '' : 'if (tid == 0) { stats[row * 2] = mean; stats[row * 2 + 1] = rstd; }'}
      }`;
  return {
    key: `slNormDx_${center}_${gamma !== undefined}${addend === undefined ? '' : '_addend'}`,
    bindings: [
      { name: 'dy', tensor: dy },
      { name: 'x', tensor: x },
      ...(gamma === undefined ? [] : [{ name: 'gamma', tensor: gamma }]),
      ...(addend === undefined ? [] : [{ name: 'addend', tensor: addend }]),
      { name: 'dx', tensor: dx, write: true },
      ...(stats === undefined ? [] : [{ name: 'stats', tensor: stats, write: true }]),
    ],
    uniforms: [['eps : f32', f32u(eps)], ['rows : i32', i32u(rows)], ['cols : i32', i32u(cols)]],
    workgroupSize: wg,
    workgroups: rows,
    prelude: `var<workgroup> buf : array<f32, ${wg}>;\nvar<workgroup> buf2 : array<f32, ${wg}>;`,
    body,
  };
}

function dims(x: tf.TensorInfo): { rows: number; cols: number } {
  const cols = x.shape[x.shape.length - 1]!;
  return { rows: x.shape.reduce((a, b) => a * b, 1) / cols, cols };
}

/** SlLayerNorm (x, gamma, beta), SlLayerNormPlain (x), SlRmsNorm (x, gamma), SlRmsNormPlain (x); attrs { eps } -> y. */
export function normForward(backend: unknown, x: tf.TensorInfo, gamma: tf.TensorInfo | undefined, beta: tf.TensorInfo | undefined, eps: number, center: boolean): tf.TensorInfo {
  const { rows, cols } = dims(x);
  const v = { center, gamma: gamma !== undefined, beta: beta !== undefined };
  const inputs = [x, ...(gamma === undefined ? [] : [gamma]), ...(beta === undefined ? [] : [beta])];
  return runProgram(backend, forwardProgram(x.shape, rows, cols, v), inputs, [f32(eps), i32(rows), i32(cols)]);
}

/**
 * SlLayerNormSkip (x, gamma, beta) / SlRmsNormSkip (x, gamma); attrs { eps } -> [x, y]: a
 * pre-norm block's branch point, x passed on as the residual stream (the same data, no dispatch)
 * beside its norm, so that one backward node receives both gradients (see ops/norm-skip.ts).
 */
export function normSkipForward(backend: unknown, x: tf.TensorInfo, gamma: tf.TensorInfo, beta: tf.TensorInfo | undefined, eps: number, center: boolean): tf.TensorInfo[] {
  (backend as { incRef(id: unknown): void }).incRef(x.dataId);
  return [{ dataId: x.dataId, shape: x.shape, dtype: x.dtype }, normForward(backend, x, gamma, beta, eps, center)];
}

/**
 * SlLayerNormGrad / SlRmsNormGrad (dy, x, gamma?, addend?), attrs { eps, beta } -> [dx], [dx,
 * dgamma] or [dx, dgamma, dbeta]; `addend` (like x) is added to dx in the same pass.
 */
export function normBackward(backend: unknown, dy: tf.TensorInfo, x: tf.TensorInfo, gamma: tf.TensorInfo | undefined, eps: number, center: boolean, beta: boolean, addend?: tf.TensorInfo): tf.TensorInfo[] {
  const b = rawBackend(backend);
  const { rows, cols } = dims(x);
  const dx = rawOutput(b, x.shape);
  const stats = gamma === undefined ? undefined : rawOutput(b, [rows, 2]);
  runRaw(b, dxKernel(x, dy, gamma, addend, dx, stats, rows, cols, eps, center));
  if (stats === undefined) return [dx];
  // dgamma (and dbeta) from one pass over dy
  const sums = runColumnSums(b, {
    key: `normParamGrads${beta}`,
    rows,
    cols,
    inputs: [{ name: 'dy', tensor: dy }, { name: 'x', tensor: x }, { name: 'stats', tensor: stats }],
    outputs: [
      { name: 'dgamma', term: 'dy[r * u.cols + j] * (x[r * u.cols + j] - stats[r * 2]) * stats[r * 2 + 1]' },
      ...(beta ? [{ name: 'dbeta', term: 'dy[r * u.cols + j]' }] : []),
    ],
  });
  (backend as { disposeData(id: unknown): void }).disposeData(stats.dataId);
  return [dx, ...sums];
}
