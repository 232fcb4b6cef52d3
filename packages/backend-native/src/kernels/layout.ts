import {
  backend_util,
  Concat,
  GatherV2,
  PadV2,
  Slice,
  slice_util,
  SplitV,
  Transpose,
  UnsortedSegmentSum,
  util,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

import type { Array32, NativeAddon } from '../addon.js';
import { a32, alloc32, allocF32, asCpuArgs, f32, sizeOf, SMALL, type KernelArgs, type NativeKernel } from './util.js';

/** Values of x: shape permuted by perm (out dim i = x dim perm[i]), as a new array. */
export function transposeValues(addon: NativeAddon, backend: MathBackendCPU, values: Array32, shape: readonly number[], perm: readonly number[]): Array32 {
  const out = alloc32(backend, values instanceof Int32Array ? 'int32' : 'float32', values.length);
  if (values.length > 0) addon.transpose(values, out, Int32Array.from(shape), Int32Array.from(perm));
  return out;
}

export const transposeKernel: NativeKernel = {
  kernelName: Transpose,
  make: (addon, cpu) => (args: KernelArgs) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { perm } = args.attrs as { perm: number[] };
    const values = a32(args.backend, x);
    if (!values || values.length < SMALL) return cpu(asCpuArgs(args));
    const outShape = perm.map((p) => x.shape[p]!);
    return args.backend.makeTensorInfo(outShape, x.dtype, transposeValues(addon, args.backend, values, x.shape, perm));
  },
};

/** GatherV2 with batchDims 0: out = x[..., indices, ...] along axis; bad indices throw like cpu. */
export const gatherKernel: NativeKernel = {
  kernelName: GatherV2,
  make: (addon, cpu) => (args: KernelArgs) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    const xv = a32(args.backend, x);
    const iv = args.backend.data.get(indices.dataId)?.values;
    if (!xv || !(iv instanceof Int32Array) || (batchDims ?? 0) !== 0) return cpu(asCpuArgs(args));
    const ax = util.parseAxisParam(axis, x.shape)[0]!;
    const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
    const size = sizeOf(outShape);
    if (size < SMALL) return cpu(asCpuArgs(args));
    const axisSize = x.shape[ax]!;
    const out = alloc32(args.backend, x.dtype, size);
    const bad = addon.gather(xv, iv, out, sizeOf(x.shape.slice(0, ax)), axisSize, sizeOf(x.shape.slice(ax + 1)));
    if (bad >= 0) throw new Error(`GatherV2: the index value ${iv[bad]} is not in [0, ${axisSize - 1}]`);
    return args.backend.makeTensorInfo(outShape, x.dtype, out);
  },
};

/** UnsortedSegmentSum: out[s] = sum of x rows whose id is s (ids outside [0, n) are dropped). */
export const unsortedSegmentSumKernel: NativeKernel = {
  kernelName: UnsortedSegmentSum,
  make: (addon, cpu) => (args: KernelArgs) => {
    const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = args.attrs as { numSegments: number };
    const xv = f32(args.backend, x);
    const ids = args.backend.data.get(segmentIds.dataId)?.values;
    if (!xv || !(ids instanceof Int32Array) || xv.length === 0) return cpu(asCpuArgs(args));
    const innerShape = x.shape.slice(segmentIds.shape.length);
    const inner = sizeOf(innerShape);
    const out = allocF32(args.backend, numSegments * inner);
    addon.segmentSum(xv, ids, out, numSegments, inner);
    return args.backend.makeTensorInfo([numSegments, ...innerShape], 'float32', out);
  },
};

function sliceNative(addon: NativeAddon, backend: MathBackendCPU, x: TensorInfo, values: Array32, begin: number[], size: number[]): TensorInfo {
  const out = alloc32(backend, x.dtype, sizeOf(size));
  if (out.length > 0) addon.slice(values, out, Int32Array.from(x.shape), Int32Array.from(begin), Int32Array.from(size));
  return backend.makeTensorInfo(size, x.dtype, out);
}

/** Slice: contiguous slices stay zero-copy views (cpu kernel); strided ones are copied natively. */
export const sliceKernel: NativeKernel = {
  kernelName: Slice,
  make: (addon, cpu) => (args: KernelArgs) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
    const values = a32(args.backend, x);
    if (!values) return cpu(asCpuArgs(args));
    const [b, s] = slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
    slice_util.assertParamsValid(x, b, s);
    if (sizeOf(s) < SMALL || slice_util.isSliceContinous(x.shape, b, s)) return cpu(asCpuArgs(args));
    return sliceNative(addon, args.backend, x, values, b, s);
  },
};

export const splitVKernel: NativeKernel = {
  kernelName: SplitV,
  make: (addon, cpu) => (args: KernelArgs) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const values = a32(args.backend, x);
    if (!values || values.length < SMALL) return cpu(asCpuArgs(args));
    const ax = util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = backend_util.prepareSplitSize(x, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[ax] = s;
      const piece = slice_util.isSliceContinous(x.shape, begin, size)
        ? contiguousPiece(args.backend, x, values, begin, size)
        : sliceNative(addon, args.backend, x, values, [...begin], size);
      begin[ax]! += s;
      return piece;
    });
  },
};

/** A contiguous piece as a zero-copy view, as the cpu Slice kernel makes it. */
function contiguousPiece(backend: MathBackendCPU, x: TensorInfo, values: Array32, begin: number[], size: number[]): TensorInfo {
  const offset = slice_util.computeFlatOffset([...begin], util.computeStrides(x.shape));
  return backend.makeTensorInfo(size, x.dtype, values.subarray(offset, offset + sizeOf(size)));
}

/** Concat along axis: each input is a block of rows [outer, inner_i] copied into the output. */
export const concatKernel: NativeKernel = {
  kernelName: Concat,
  make: (addon, cpu) => (args: KernelArgs) => {
    const inputs = args.inputs as TensorInfo[];
    const { axis } = args.attrs as { axis: number };
    const first = inputs[0];
    if (!first) return cpu(asCpuArgs(args));
    const ax = util.parseAxisParam(axis, first.shape)[0]!;
    const arrays = inputs.map((t) => a32(args.backend, t));
    if (arrays.some((v) => !v) || inputs.some((t) => t.dtype !== first.dtype)) return cpu(asCpuArgs(args));
    const outShape = backend_util.computeOutShape(inputs.map((t) => t.shape), ax);
    const size = sizeOf(outShape);
    if (size < SMALL) return cpu(asCpuArgs(args));
    const outer = sizeOf(outShape.slice(0, ax));
    const outInner = size / outer;
    const out = alloc32(args.backend, first.dtype, size);
    let offset = 0;
    inputs.forEach((t, i) => {
      const inner = sizeOf(t.shape.slice(ax));
      if (inner > 0) addon.copyRows(arrays[i]!, inner, out, offset, outInner, outer, inner);
      offset += inner;
    });
    return args.backend.makeTensorInfo(outShape, first.dtype, out);
  },
};

/** PadV2 (the gradient of slice): constant fill, then the input rows copied into place. */
export const padKernel: NativeKernel = {
  kernelName: PadV2,
  make: (addon, cpu) => (args: KernelArgs) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { paddings, constantValue } = args.attrs as { paddings: [number, number][]; constantValue: number };
    const values = a32(args.backend, x);
    const outShape = x.shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]);
    if (!values || sizeOf(outShape) < SMALL) return cpu(asCpuArgs(args));
    const out = alloc32(args.backend, x.dtype, sizeOf(outShape));
    const fill = x.dtype === 'int32' ? Int32Array.of(constantValue) : Float32Array.of(constantValue);
    addon.pad(values, out, Int32Array.from(x.shape), Int32Array.from(paddings.map((p) => p[0])), Int32Array.from(outShape), fill);
    return args.backend.makeTensorInfo(outShape, x.dtype, out);
  },
};

export const layoutKernels: NativeKernel[] = [
  transposeKernel,
  gatherKernel,
  unsortedSegmentSumKernel,
  sliceKernel,
  splitVKernel,
  concatKernel,
  padKernel,
];
