import {
  Abs,
  Elu,
  Erf,
  Exp,
  LeakyRelu,
  Log,
  Neg,
  Reciprocal,
  Relu,
  Relu6,
  Rsqrt,
  Sigmoid,
  Sqrt,
  Square,
  Step,
  Tanh,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import { allocF32, asCpuArgs, f32, SMALL, type KernelArgs, type NativeKernel } from './util.js';

/** Codes of the addon's unary ops (native/src/kernels.h, enum UnaryOp). */
export const UnaryOp = {
  Exp: 0, Log: 1, Sqrt: 2, Rsqrt: 3, Tanh: 4, Sigmoid: 5, Relu: 6, Relu6: 7, Neg: 8, Square: 9,
  Abs: 10, Reciprocal: 11, Erf: 12, LeakyRelu: 13, Elu: 14, Step: 15,
} as const;

function unaryKernel(kernelName: string, op: number, alphaOf?: (attrs: Record<string, unknown>) => number): NativeKernel {
  return {
    kernelName,
    make: (addon, cpu) => (args: KernelArgs) => {
      const { x } = args.inputs as { x: TensorInfo };
      const xv = f32(args.backend, x);
      if (!xv || xv.length < SMALL) return cpu(asCpuArgs(args));
      const out = allocF32(args.backend, xv.length);
      addon.unary(op, xv, out, alphaOf ? alphaOf((args.attrs ?? {}) as Record<string, unknown>) : 0);
      return args.backend.makeTensorInfo(x.shape, 'float32', out);
    },
  };
}

export const unaryKernels: NativeKernel[] = [
  unaryKernel(Exp, UnaryOp.Exp),
  unaryKernel(Log, UnaryOp.Log),
  unaryKernel(Sqrt, UnaryOp.Sqrt),
  unaryKernel(Rsqrt, UnaryOp.Rsqrt),
  unaryKernel(Tanh, UnaryOp.Tanh),
  unaryKernel(Sigmoid, UnaryOp.Sigmoid),
  unaryKernel(Relu, UnaryOp.Relu),
  unaryKernel(Relu6, UnaryOp.Relu6),
  unaryKernel(Neg, UnaryOp.Neg),
  unaryKernel(Square, UnaryOp.Square),
  unaryKernel(Abs, UnaryOp.Abs),
  unaryKernel(Reciprocal, UnaryOp.Reciprocal),
  unaryKernel(Erf, UnaryOp.Erf),
  unaryKernel(LeakyRelu, UnaryOp.LeakyRelu, (attrs) => Number(attrs.alpha ?? 0.2)),
  unaryKernel(Elu, UnaryOp.Elu),
  // ReLU's gradient is dy * step(x): on the cpu kernel (a JS closure per element) it cost an SLLM step a fifth of its time.
  unaryKernel(Step, UnaryOp.Step, (attrs) => Number(attrs.alpha ?? 0)),
];
