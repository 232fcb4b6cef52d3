import { Fill, type TensorInfo } from '@tensorflow/tfjs-core';

import { allocF32, asCpuArgs, sizeOf, SMALL, type KernelArgs, type NativeKernel } from './util.js';

/** Fill (tf.ones / tf.zeros / tf.fill) for float32: a recycled buffer and TypedArray.fill. */
export const fillKernel: NativeKernel = {
  kernelName: Fill,
  make: (_addon, cpu) => (args: KernelArgs) => {
    const { shape, value, dtype } = args.attrs as { shape: number[]; value: number | string; dtype?: string };
    const size = sizeOf(shape);
    if ((dtype ?? 'float32') !== 'float32' || typeof value !== 'number' || size < SMALL) return cpu(asCpuArgs(args)) as TensorInfo;
    const out = allocF32(args.backend, size);
    out.fill(value);
    return args.backend.makeTensorInfo(shape, 'float32', out);
  },
};
