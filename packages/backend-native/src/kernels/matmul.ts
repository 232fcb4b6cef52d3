import { BatchMatMul, broadcast_util, _FusedMatMul, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

import type { NativeAddon } from '../addon.js';
import { allocF32, asCpuArgs, f32, sizeOf, type KernelArgs, type NativeKernel } from './util.js';

/** Activation codes of the addon's biasAct (native/src/kernels.h, enum Activation). */
const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, sigmoid: 3, leakyrelu: 4, elu: 5 };

interface MatMulPlan {
  outShape: number[];
  m: number;
  n: number;
  k: number;
  batchA: Int32Array;
  batchB: Int32Array;
}

/**
 * Shapes of op(a) @ op(b) with numpy-style broadcasting of the batch dims:
 * a: [...batchA, m, k] (or [..., k, m] transposed), b: [...batchB, k, n] (or [..., n, k]).
 * Returns null when the inner dims or batch dims don't match (the cpu kernel then throws).
 */
export function planMatMul(aShape: readonly number[], bShape: readonly number[], ta: boolean, tb: boolean): MatMulPlan | null {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) return null;
  const m = ta ? aShape[ra - 1]! : aShape[ra - 2]!;
  const k = ta ? aShape[ra - 2]! : aShape[ra - 1]!;
  const kb = tb ? bShape[rb - 1]! : bShape[rb - 2]!;
  const n = tb ? bShape[rb - 2]! : bShape[rb - 1]!;
  if (k !== kb) return null;
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  let outBatch: number[];
  try {
    outBatch = broadcast_util.assertAndGetBroadcastShape(aBatch, bBatch);
  } catch {
    return null;
  }
  const batch = sizeOf(outBatch);
  const batchA = new Int32Array(batch);
  const batchB = new Int32Array(batch);
  const rank = outBatch.length;
  for (let bi = 0; bi < batch; bi++) {
    // Decompose bi over outBatch, map to each operand's (right-aligned, size-1-broadcast) index.
    let rem = bi;
    let ia = 0, ib = 0, strideA = 1, strideB = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const size = outBatch[d]!;
      const idx = rem % size;
      rem = Math.floor(rem / size);
      const da = aBatch[d - (rank - aBatch.length)] ?? 1;
      const db = bBatch[d - (rank - bBatch.length)] ?? 1;
      if (da !== 1) ia += idx * strideA;
      if (db !== 1) ib += idx * strideB;
      strideA *= da;
      strideB *= db;
    }
    batchA[bi] = ia;
    batchB[bi] = ib;
  }
  return { outShape: [...outBatch, m, n], m, n, k, batchA, batchB };
}

function runMatMul(addon: NativeAddon, backend: MathBackendCPU, a: TensorInfo, b: TensorInfo, ta: boolean, tb: boolean): TensorInfo | null {
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (!av || !bv) return null;
  const plan = planMatMul(a.shape, b.shape, ta, tb);
  if (!plan) return null;
  const out = allocF32(backend, sizeOf(plan.outShape));
  if (out.length > 0) addon.matmul(av, bv, out, plan.batchA, plan.batchB, plan.m, plan.n, plan.k, ta, tb);
  return backend.makeTensorInfo(plan.outShape, 'float32', out);
}

export const batchMatMulKernel: NativeKernel = {
  kernelName: BatchMatMul,
  make: (addon, cpu) => (args: KernelArgs) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    return runMatMul(addon, args.backend, a, b, transposeA, transposeB) ?? (cpu(asCpuArgs(args)) as TensorInfo);
  },
};

/** _FusedMatMul: act(op(a) @ op(b) + bias); prelu (needs its weights tensor) stays on cpu. */
export const fusedMatMulKernel: NativeKernel = {
  kernelName: _FusedMatMul,
  make: (addon, cpu) => (args: KernelArgs) => {
    const { a, b, bias } = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo };
    const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as {
      transposeA: boolean;
      transposeB: boolean;
      activation: string;
      leakyreluAlpha?: number;
    };
    const backend = args.backend;
    const act = ACTIVATIONS[activation];
    const biasValues = bias ? f32(backend, bias) : null;
    if (act === undefined || (bias && !biasValues)) return cpu(asCpuArgs(args));
    const product = runMatMul(addon, backend, a, b, transposeA, transposeB);
    if (!product) return cpu(asCpuArgs(args));
    const n = product.shape[product.shape.length - 1]!;
    // Only a bias over the last dim ([n], [1, n], ...) is fused; others go through the cpu kernel.
    if (bias && (bias.shape[bias.shape.length - 1] !== n || sizeOf(bias.shape) !== n || bias.shape.length > product.shape.length)) {
      backend.disposeIntermediateTensorInfo(product);
      return cpu(asCpuArgs(args));
    }
    const rows = n === 0 ? 0 : sizeOf(product.shape) / n;
    const values = backend.data.get(product.dataId).values as Float32Array;
    if (rows > 0 && (biasValues || act !== 0)) addon.biasAct(values, biasValues, rows, n, act, leakyreluAlpha ?? 0.2);
    return product;
  },
};
