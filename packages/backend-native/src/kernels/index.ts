import { binaryKernels } from './binary.js';
import { fillKernel } from './fill.js';
import { fusedKernels } from './fused.js';
import { layoutKernels } from './layout.js';
import { batchMatMulKernel, fusedMatMulKernel } from './matmul.js';
import { reduceKernels } from './reduce.js';
import { softmaxKernels } from './softmax.js';
import { unaryKernels } from './unary.js';
import type { NativeKernel } from './util.js';

/** Every kernel the native backend runs in C++ (the rest are the tfjs cpu kernels). */
export const nativeKernels: NativeKernel[] = [
  batchMatMulKernel,
  fusedMatMulKernel,
  ...binaryKernels,
  ...unaryKernels,
  ...softmaxKernels,
  ...reduceKernels,
  ...layoutKernels,
  fillKernel,
  ...fusedKernels,
];
