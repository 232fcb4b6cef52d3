import { LogSoftmax, Softmax, type TensorInfo } from '@tensorflow/tfjs-core';

import { allocF32, asCpuArgs, f32, SMALL, type KernelArgs, type NativeKernel } from './util.js';

/** Softmax (and LogSoftmax, callable through engine().runKernel) over the last axis. */
function softmaxKernel(kernelName: string, log: boolean): NativeKernel {
  return {
    kernelName,
    make: (addon, cpu) => (args: KernelArgs) => {
      const { logits } = args.inputs as { logits: TensorInfo };
      const attrs = (args.attrs ?? {}) as { dim?: number; axis?: number };
      const rank = logits.shape.length;
      const axis = attrs.dim ?? attrs.axis ?? -1;
      const values = f32(args.backend, logits);
      const lastAxis = rank > 0 && (axis === -1 || axis === rank - 1);
      if (!values || !lastAxis || values.length < (log ? 1 : SMALL)) {
        if (log) throw new Error(`LogSoftmax on native: needs float32 values over the last axis, got axis ${axis} of shape [${logits.shape.join(', ')}]`);
        return cpu(asCpuArgs(args));
      }
      const cols = logits.shape[rank - 1]!;
      const out = allocF32(args.backend, values.length);
      if (cols > 0) addon.softmax(values, out, cols, log);
      return args.backend.makeTensorInfo(logits.shape, 'float32', out);
    },
  };
}

export const softmaxKernels: NativeKernel[] = [softmaxKernel(Softmax, false), softmaxKernel(LogSoftmax, true)];
