import { Max, Mean, Min, Sum, util, type TensorInfo } from '@tensorflow/tfjs-core';

import { transposeValues } from './layout.js';
import { allocF32, asCpuArgs, f32, sizeOf, SMALL, type KernelArgs, type NativeKernel } from './util.js';

/** Codes of the addon's reductions (native/src/kernels.h, enum ReduceOp). */
export const ReduceOp = { Sum: 0, Max: 1, Min: 2, Mean: 3 } as const;

/**
 * Reduces x over `axes`. Contiguous axes are reduced in place as x: [outer, R, inner];
 * other axis sets are transposed to the end first (as the tfjs cpu kernels do).
 */
function reduceKernel(kernelName: string, op: number, axisAttr: 'axis' | 'reductionIndices'): NativeKernel {
  return {
    kernelName,
    make: (addon, cpu) => (args: KernelArgs) => {
      const { x } = args.inputs as { x: TensorInfo };
      const attrs = (args.attrs ?? {}) as Record<string, unknown>;
      let values = f32(args.backend, x);
      if (!values || values.length < SMALL) return cpu(asCpuArgs(args));
      const axes = util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape).sort((p, q) => p - q);
      const keepDims = Boolean(attrs.keepDims);
      const rank = x.shape.length;
      const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
      let shape = [...x.shape];
      const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
      let first = axes[0] ?? rank;
      let last = axes.length ? axes[axes.length - 1]! : rank - 1;
      if (!contiguous) {
        const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
        const perm = [...kept, ...axes];
        values = transposeValues(addon, args.backend, values, shape, perm) as Float32Array;
        shape = perm.map((p) => shape[p]!);
        first = kept.length;
        last = rank - 1;
      }
      const outer = sizeOf(shape.slice(0, first));
      const r = sizeOf(shape.slice(first, last + 1));
      const inner = sizeOf(shape.slice(last + 1));
      const out = allocF32(args.backend, outer * inner);
      addon.reduce(op, values, out, outer, r, inner);
      return args.backend.makeTensorInfo(outShape, 'float32', out);
    },
  };
}

export const reduceKernels: NativeKernel[] = [
  reduceKernel(Sum, ReduceOp.Sum, 'axis'),
  reduceKernel(Mean, ReduceOp.Mean, 'axis'),
  reduceKernel(Max, ReduceOp.Max, 'reductionIndices'),
  reduceKernel(Min, ReduceOp.Min, 'axis'),
];
