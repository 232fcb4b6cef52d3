/**
 * Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), as WGSL: the forward pass in one element-wise
 * dispatch (optionally adding a per-column bias first, for a Linear layer's output), the
 * backward pass in one: dx = dy * GELU'(x) element-wise, or with the bias du = dy * GELU'(y + b)
 * together with dbias = column sums of du. The composite takes 5 dispatches forward and ~10
 * backward. erf is tfjs's own Abramowitz-Stegun 7.1.26 approximation (the one its Erf kernels
 * use), so values agree with the composite to rounding.
 */
import * as tf from '@tensorflow/tfjs-core';
import { elementwiseProgram, i32, runProgram } from './program.js';
import { rawBackend, rawOutput, runColumnSums } from './raw.js';

const B = tf.backend_util;

// erf(a) and GELU'(x) = 0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi).
const helpers = `
fn slErf(a : f32) -> f32 {
  let absA = abs(a);
  let t = 1.0 / (1.0 + ${B.ERF_P} * absA);
  return sign(a) * (1.0 - (((((${B.ERF_A5} * t + ${B.ERF_A4}) * t) + ${B.ERF_A3}) * t + ${B.ERF_A2}) * t + ${B.ERF_A1}) * t * exp(-absA * absA));
}
fn slGelu(x : f32) -> f32 {
  return (x * 0.5) * (1.0 + slErf(x * ${Math.SQRT1_2}));
}
fn slGeluGrad(x : f32) -> f32 {
  return 0.5 * (1.0 + slErf(x * ${Math.SQRT1_2})) + x * exp(-0.5 * x * x) * ${1 / Math.sqrt(2 * Math.PI)};
}`;

/** SlGelu (x) -> GELU(x); SlBiasGelu (x [rows, cols], bias [cols]) -> GELU(x + bias). */
export function geluForward(backend: unknown, x: tf.TensorInfo, bias: tf.TensorInfo | undefined): tf.TensorInfo {
  const arg = bias === undefined ? 'x[index]' : 'x[index] + bias[index % uniforms.cols]';
  const code = `${helpers}
    fn main(index : i32) {
      if (index < uniforms.size) { result[index] = slGelu(${arg}); }
    }`;
  const cols = x.shape[x.shape.length - 1]!;
  const names = bias === undefined ? ['x'] : ['x', 'bias'];
  return runProgram(backend, elementwiseProgram(`slGelu_${bias !== undefined}`, x.shape, names, 'cols : i32,', code), bias === undefined ? [x] : [x, bias], [i32(cols)]);
}

/** SlGeluGrad (dy, x) -> dx = dy * GELU'(x). */
export function geluBackward(backend: unknown, dy: tf.TensorInfo, x: tf.TensorInfo): tf.TensorInfo {
  const code = `${helpers}
    fn main(index : i32) {
      if (index < uniforms.size) { result[index] = dy[index] * slGeluGrad(x[index]); }
    }`;
  return runProgram(backend, elementwiseProgram('slGeluGrad', x.shape, ['dy', 'x'], '', code), [dy, x]);
}

/** SlBiasGeluGrad (dy, x [rows, cols], bias [cols]) -> [du = dy * GELU'(x + bias), dbias = column sums of du]. */
export function biasGeluBackward(backend: unknown, dy: tf.TensorInfo, x: tf.TensorInfo, bias: tf.TensorInfo): tf.TensorInfo[] {
  const b = rawBackend(backend);
  const cols = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((p, d) => p * d, 1) / cols;
  const du = rawOutput(b, x.shape);
  const [dbias] = runColumnSums(b, {
    key: 'biasGeluGrad',
    rows,
    cols,
    inputs: [{ name: 'dy', tensor: dy }, { name: 'x', tensor: x }, { name: 'bias', tensor: bias }],
    outputs: [{ name: 'dbias', term: 'g' }],
    perElement: {
      statement: `let at = r * u.cols + j;
      let g = dy[at] * slGeluGrad(x[at] + bias[j]);
      du[at] = g;`,
      writes: [{ name: 'du', tensor: du }],
    },
    prelude: helpers,
  });
  return [du, dbias!];
}

/** SlBiasGrad (dy [rows, cols]) -> column sums [cols] (a broadcast bias's gradient) in one dispatch. */
export function biasGrad(backend: unknown, dy: tf.TensorInfo, rows: number, cols: number): tf.TensorInfo {
  const [sum] = runColumnSums(rawBackend(backend), {
    key: 'biasGrad',
    rows,
    cols,
    inputs: [{ name: 'dy', tensor: dy }],
    outputs: [{ name: 'dbias', term: 'dy[r * u.cols + j]' }],
  });
  return sum!;
}
