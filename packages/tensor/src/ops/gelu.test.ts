import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { Linear } from '../layers/linear.js';
import { Rng } from '../rng.js';
import { erf } from '../testing/reference.js';
import { columnSum, matMulBias } from './bias.js';
import { biasGelu, gelu, geluComposite, geluGradComposite } from './gelu.js';
import { expectClose, onBackend, webgpu, webgpuKernels, why } from './compare.testkit.js';

// GELU, bias + GELU, matmul + bias and the column sum against the composite code they replace
// (cpu, always) and, where a WebGPU adapter exists (a GPU or Mesa's lavapipe), webgpu vs cpu.
afterAll(async () => {
  await tf.setBackend('cpu');
});

const rng = new Rng(5);
const rows = 12;
const inF = 7;
const cols = 40;
// Wide spread so both erf tails and the centre are exercised.
const x = rng.normalArray(rows * cols, 0, 2.5);
const xin = rng.normalArray(rows * inF, 0, 1);
const wData = rng.normalArray(inF * cols, 0, 0.5);
const bData = rng.normalArray(cols, 0, 0.5);
const wLoss = rng.normalArray(rows * cols); // loss = sum(wLoss * y): dy differs per element

// Every value and gradient of each op, built on the current backend.
function geluCase(): tf.Tensor[] {
  const xt = tf.tensor2d(x, [rows, cols]);
  const bt = tf.tensor1d(bData);
  const wl = tf.tensor2d(wLoss, [rows, cols]);
  const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, wl));
  const [dx] = tf.grads((a: tf.Tensor) => loss(gelu(a)))([xt]);
  const [du, db] = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(biasGelu(a, b)))([xt, bt]);
  return [gelu(xt), dx!, biasGelu(xt, bt), du!, db!];
}

function linearCase(): tf.Tensor[] {
  const xt = tf.tensor2d(xin, [rows, inF]);
  const w = tf.tensor2d(wData, [inF, cols]);
  const b = tf.tensor1d(bData);
  const wl = tf.tensor2d(wLoss, [rows, cols]);
  const [dx, dw, db] = tf.grads((a: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(matMulBias(a, ww, bb), wl)))([xt, w, b]);
  return [matMulBias(xt, w, b), dx!, dw!, db!, columnSum(tf.tensor2d(x, [rows, cols]))];
}

// What Linear (+ GELU) computed before the fused ops: matMul, add, composite GELU.
function referenceCase(): tf.Tensor[] {
  const xt = tf.tensor2d(x, [rows, cols]);
  const bt = tf.tensor1d(bData);
  const wl = tf.tensor2d(wLoss, [rows, cols]);
  const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, wl));
  const [dx] = tf.grads((a: tf.Tensor) => loss(geluComposite(a)))([xt]);
  const [du, db] = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(geluComposite(tf.add(a, b))))([xt, bt]);
  const xi = tf.tensor2d(xin, [rows, inF]);
  const w = tf.tensor2d(wData, [inF, cols]);
  const [lx, lw, lb] = tf.grads((a: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => loss(tf.add(tf.matMul(a, ww), bb)))([xi, w, bt]);
  const colSum = tf.reshape(tf.matMul(tf.fill([1, rows], 1), xt), [cols]);
  return [geluComposite(xt), dx!, geluComposite(tf.add(xt, bt)), du!, db!, tf.add(tf.matMul(xi, w), bt), lx!, lw!, lb!, colSum];
}

describe('gelu, biasGelu, matMulBias, columnSum', () => {
  it('on cpu are exactly the composites they replaced (values and tf.grads)', async () => {
    const got = [...(await onBackend('cpu', geluCase)), ...(await onBackend('cpu', linearCase))];
    const want = await onBackend('cpu', referenceCase);
    expect(got).toEqual(want);
  });

  it('geluGradComposite (the fused gradient fallback) matches float64 finite differences and autodiff', async () => {
    const h = 1e-6;
    const g64 = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
    const [analytic, auto] = await onBackend('cpu', () => {
      const xt = tf.tensor1d(x);
      const dy = tf.tensor1d(wLoss);
      const [d] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(geluComposite(a), dy)))([xt]);
      return [geluGradComposite(dy, xt), d!];
    });
    const fd = Float32Array.from(x, (v, i) => (wLoss[i]! * (g64(v + h) - g64(v - h))) / (2 * h));
    expectClose(analytic!, fd);
    expectClose(analytic!, auto!);
  });

  it('Linear with gelu on cpu equals the matmul, add and composite GELU it replaced', async () => {
    const [got, want] = await onBackend('cpu', () => {
      const lin = new Linear({ inFeatures: inF, outFeatures: cols, rng: new Rng(1) });
      const xt = tf.tensor3d(xin, [3, 4, inF]);
      const y = lin.forward(xt, 'gelu');
      const ref = tf.reshape(geluComposite(tf.add(tf.matMul(tf.reshape(xt, [-1, inF]), lin.weight), lin.bias!)), [3, 4, cols]);
      lin.dispose();
      return [y, ref];
    });
    expect(got).toEqual(want);
  });

  it('reject shapes that do not fit', () => {
    expect(() => biasGelu(tf.zeros([2, 3]), tf.zeros([4]))).toThrow(/biasGelu: bias \[4\] is not \[3\]/);
    expect(() => matMulBias(tf.zeros([2, 3]), tf.zeros([3, 4]), tf.zeros([5]))).toThrow(/matMulBias: .*bias \[5\]/);
  });

  it.skipIf(!webgpu.ok)(`fused webgpu kernels match cpu, values and gradients (${why})`, async () => {
    const want = [...(await onBackend('cpu', geluCase)), ...(await onBackend('cpu', linearCase))];
    const got = [...(await onBackend('webgpu', geluCase)), ...(await onBackend('webgpu', linearCase))];
    got.forEach((g, i) => expectClose(g, want[i]!));
  });

  it.skipIf(!webgpu.ok)(`run as one kernel each on webgpu, backward included (${why})`, async () => {
    // tf.grad seeds dy with one Identity kernel; every other kernel is counted.
    const gradKernels = async (...a: Parameters<typeof webgpuKernels>) => (await webgpuKernels(...a)).filter((k) => k !== 'Identity');
    const mk = () => [tf.tensor2d(x, [rows, cols]), tf.tensor1d(bData), tf.tensor2d(xin, [rows, inF]), tf.tensor2d(wData, [inF, cols])];
    expect(await webgpuKernels(mk, (a) => gelu(a!))).toEqual(['SlGelu']);
    expect(await gradKernels(mk, (a) => tf.grad((t: tf.Tensor) => gelu(t))(a!))).toEqual(['SlGelu', 'SlGeluGrad']);
    expect(await gradKernels(mk, (a, b) => tf.grads((t: tf.Tensor, u: tf.Tensor) => biasGelu(t, u))([a!, b!]))).toEqual(['SlBiasGelu', 'SlBiasGeluGrad']);
    expect(await webgpuKernels(mk, (_a, b, xi, w) => matMulBias(xi!, w!, b!))).toEqual(['SlMatMulBias']);
    expect(await webgpuKernels(mk, (a) => columnSum(a!))).toEqual(['SlBiasGrad']);
    await tf.setBackend('cpu');
  });
});
