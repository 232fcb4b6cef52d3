import {
  Add,
  broadcast_util,
  Maximum,
  Minimum,
  Multiply,
  Pow,
  RealDiv,
  SquaredDifference,
  Sub,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

import type { NativeAddon } from '../addon.js';
import { allocF32, asCpuArgs, f32, sizeOf, SMALL, type KernelArgs, type NativeKernel } from './util.js';

/** Codes of the addon's binary ops (native/src/kernels.h, enum BinaryOp). */
export const BinaryOp = { Add: 0, Sub: 1, Mul: 2, Div: 3, Max: 4, Min: 5, SquaredDifference: 6, Pow: 7 } as const;

/** Element strides of `shape` seen through the broadcast `outShape` (0 on broadcast dims). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const rank = outShape.length;
  const strides = new Int32Array(rank);
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    const size = shape[d - (rank - shape.length)] ?? 1;
    strides[d] = size === 1 ? 0 : stride;
    stride *= size;
  }
  return strides;
}

/** a op b with broadcasting, natively; null when an input isn't float32 or shapes don't broadcast. */
export function binaryBroadcast(addon: NativeAddon, backend: MathBackendCPU, op: number, a: TensorInfo, b: TensorInfo, minSize = 0): TensorInfo | null {
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (!av || !bv) return null;
  let outShape: number[];
  try {
    outShape = broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
  } catch {
    return null;
  }
  const size = sizeOf(outShape);
  if (size < minSize || av.length === 0 || bv.length === 0) return null;
  const out = allocF32(backend, size);
  addon.binary(op, av, bv, out, Int32Array.from(outShape), broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape));
  return backend.makeTensorInfo(outShape, 'float32', out);
}

function binaryKernel(kernelName: string, op: number): NativeKernel {
  return {
    kernelName,
    make: (addon, cpu) => (args: KernelArgs) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      return binaryBroadcast(addon, args.backend, op, a, b, SMALL) ?? (cpu(asCpuArgs(args)) as TensorInfo);
    },
  };
}

export const binaryKernels: NativeKernel[] = [
  binaryKernel(Add, BinaryOp.Add),
  binaryKernel(Sub, BinaryOp.Sub),
  binaryKernel(Multiply, BinaryOp.Mul),
  binaryKernel(RealDiv, BinaryOp.Div),
  binaryKernel(Maximum, BinaryOp.Max),
  binaryKernel(Minimum, BinaryOp.Min),
  binaryKernel(SquaredDifference, BinaryOp.SquaredDifference),
  binaryKernel(Pow, BinaryOp.Pow),
];
