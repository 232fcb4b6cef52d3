/**
 * Kernel workarounds for @tensorflow/tfjs-backend-wasm 4.22, installed by `initBackend`:
 *
 * - `UnsortedSegmentSum` is missing, so the gradient of `tf.gather` (embedding lookups)
 *   throws. We register a plain-JS kernel: it is a scatter-add over rows, memory-bound.
 * - `BatchMatMul` with `transposeA`/`transposeB` falls off XNNPACK onto a naive loop
 *   (measured 7-23x slower than the untransposed 2-D case). Every matmul gradient uses those
 *   flags, so we wrap the kernel: transposed operands are materialised with the wasm
 *   `Transpose` kernel first, then the fast untransposed path runs.
 */
import * as tf from '@tensorflow/tfjs-core';

type WasmBackend = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: tf.DataId): boolean;
};

let installed = false;

/** Idempotent; must run after the wasm backend module is imported (its kernels registered). */
export function installWasmKernels(): void {
  if (installed) return;
  installed = true;
  patchBatchMatMul();
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') === undefined) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum as tf.KernelFunc });
  }
}

function unsortedSegmentSum(args: {
  inputs: { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  backend: WasmBackend;
  attrs: { numSegments: number };
}): tf.TensorInfo {
  const { x, segmentIds } = args.inputs;
  const { backend } = args;
  const { numSegments } = args.attrs;
  const ids = backend.typedArrayFromHeap(segmentIds);
  const xs = backend.typedArrayFromHeap(x);
  const inner = ids.length === 0 ? 0 : xs.length / ids.length;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = backend.makeOutput(outShape, x.dtype);
  const o = backend.typedArrayFromHeap(out);
  o.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const seg = ids[i]!;
    if (seg < 0 || seg >= numSegments) continue; // TF semantics: out-of-range ids are dropped
    const src = i * inner;
    const dst = seg * inner;
    for (let j = 0; j < inner; j++) o[dst + j]! += xs[src + j]!;
  }
  return out;
}

function patchBatchMatMul(): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transposeKernel = tf.getKernel('Transpose', 'wasm');
  if (original === undefined || transposeKernel === undefined) {
    throw new Error('wasm backend kernels are not registered: import @tensorflow/tfjs-backend-wasm first');
  }
  const swapLast = (rank: number) => [...Array(rank - 2).keys(), rank - 1, rank - 2];
  const kernelFunc = (args: {
    inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
    backend: WasmBackend;
    attrs: { transposeA: boolean; transposeB: boolean };
  }): tf.TensorInfo => {
    const { inputs, backend, attrs } = args;
    if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(args as never) as tf.TensorInfo;
    const materialise = (t: tf.TensorInfo) =>
      transposeKernel.kernelFunc({ inputs: { x: t }, backend, attrs: { perm: swapLast(t.shape.length) } } as never) as tf.TensorInfo;
    const a = attrs.transposeA ? materialise(inputs.a) : inputs.a;
    const b = attrs.transposeB ? materialise(inputs.b) : inputs.b;
    const out = original.kernelFunc({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } } as never) as tf.TensorInfo;
    if (a !== inputs.a) backend.disposeData(a.dataId);
    if (b !== inputs.b) backend.disposeData(b.dataId);
    return out;
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}
