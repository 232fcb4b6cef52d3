/**
 * Kernel workarounds for @tensorflow/tfjs-backend-wasm 4.22, installed by `initBackend`:
 *
 * - `UnsortedSegmentSum` is missing, so the gradient of `tf.gather` (embedding lookups)
 *   throws. We register a plain-JS kernel: it is a scatter-add over rows, memory-bound.
 * - `BatchMatMul` with `transposeA`/`transposeB`, or with a batch dimension, falls off
 *   XNNPACK onto a naive loop (measured 7-23x slower than the untransposed 2-D case). Every
 *   matmul gradient uses the transpose flags and attention is batched, so we wrap the kernel:
 *   transposed operands are materialised with the wasm `Transpose` kernel, and batches run as
 *   one XNNPACK 2-D matmul per slice on zero-copy views of the operands.
 * - `Identity` copies its input, and tfjs clones (Identity) every tensor it saves for the
 *   backward pass: ~220 full copies per training step of the tiny GPT. Tensors are immutable,
 *   so we share the buffer with a reference count, as the cpu backend does.
 * - `Slice` / `SplitV` copy the whole input to the JS heap for every slice, then copy element
 *   by element. Ours copies contiguous runs straight from wasm memory.
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
  replaceKernel('Identity', identity as tf.KernelFunc);
  replaceKernel('Slice', slice as tf.KernelFunc);
  replaceKernel('SplitV', splitV as tf.KernelFunc);
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') === undefined) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum as tf.KernelFunc });
  }
}

/** Replaces a wasm kernel for numeric tensors; string tensors keep the original. */
function replaceKernel(kernelName: string, kernelFunc: tf.KernelFunc): void {
  const original = tf.getKernel(kernelName, 'wasm');
  if (original === undefined) throw new Error(`wasm backend has no ${kernelName} kernel to replace`);
  const dispatch: tf.KernelFunc = (args) => (args.inputs.x?.dtype === 'string' ? original.kernelFunc(args) : kernelFunc(args));
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...original, kernelFunc: dispatch });
}

function identity(args: { inputs: { x: tf.TensorInfo }; backend: WasmBackend & { incRef(d: tf.DataId): void } }): tf.TensorInfo {
  const { x } = args.inputs;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Copies x[begin : begin + size] into a new tensor, one contiguous run at a time. */
function sliceInto(backend: WasmBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  // Dims after `inner` are taken whole, so each run covers size[inner] * (their product) values.
  let inner = rank - 1;
  while (inner > 0 && size[inner] === x.shape[inner] && begin[inner] === 0) inner--;
  const strides = tf.util.computeStrides(x.shape);
  const stride = (d: number) => (d === rank - 1 ? 1 : strides[d]!);
  const run = size[inner]! * (inner === rank - 1 ? 1 : stride(inner));
  const outer = size.slice(0, inner);
  const count = tf.util.sizeFromShape(outer);
  const idx = new Array<number>(inner).fill(0);
  for (let r = 0; r < count; r++) {
    let off = begin[inner]! * stride(inner);
    for (let d = 0; d < inner; d++) off += (begin[d]! + idx[d]!) * stride(d);
    dst.set(src.subarray(off, off + run), r * run);
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d]! < outer[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

function slice(args: { inputs: { x: tf.TensorInfo }; backend: WasmBackend; attrs: { begin: number | number[]; size: number | number[] } }): tf.TensorInfo {
  const { x } = args.inputs;
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, args.attrs.begin, args.attrs.size) as [number[], number[]];
  return sliceInto(args.backend, x, begin, size);
}

function splitV(args: { inputs: { x: tf.TensorInfo }; backend: WasmBackend; attrs: { numOrSizeSplits: number | number[]; axis: number | number[] } }): tf.TensorInfo[] {
  const { x } = args.inputs;
  const axis = tf.util.parseAxisParam(args.attrs.axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, args.attrs.numOrSizeSplits, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[axis] = s;
    const out = sliceInto(args.backend, x, [...begin], size);
    begin[axis]! += s;
    return out;
  });
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

type WasmModule = {
  cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
  tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
};

interface WasmBackendInternals {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: tf.DataId): { id: number; memoryOffset: number } };
}

let rawBatchMatMul: ((...args: unknown[]) => void) | undefined;

/** A tensor id for a region of an existing wasm buffer (no copy); release with `releaseView`. */
function view(backend: WasmBackendInternals, offset: number, size: number): number {
  const id = backend.dataIdNextNumber++;
  backend.wasm.tfjs.registerTensor(id, size, offset);
  return id;
}

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);

/**
 * out[i] = a[i] @ b[i] for untransposed float32 operands with batch `batch`, where a batch of
 * 1 broadcasts. Runs one XNNPACK 2-D matmul per slice on zero-copy views: the wasm kernel's
 * own batched path is a naive loop (measured ~10x slower than the 2-D path).
 */
function slicedBatchMatMul(
  backend: WasmBackend & WasmBackendInternals,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  outShape: number[],
  batchA: number,
  batchB: number,
): tf.TensorInfo {
  rawBatchMatMul ??= backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
  const m = a.shape[a.shape.length - 2]!;
  const k = a.shape[a.shape.length - 1]!;
  const n = b.shape[b.shape.length - 1]!;
  const batch = Math.max(batchA, batchB);
  const out = backend.makeOutput(outShape, 'float32');
  const aOff = backend.dataIdMap.get(a.dataId).memoryOffset;
  const bOff = backend.dataIdMap.get(b.dataId).memoryOffset;
  const oOff = backend.dataIdMap.get(out.dataId).memoryOffset;
  const aShape = shapeBytes([1, m, k]);
  const bShape = shapeBytes([1, k, n]);
  const aShared = batchA === 1 ? view(backend, aOff, m * k) : -1;
  const bShared = batchB === 1 ? view(backend, bOff, k * n) : -1;
  try {
    for (let i = 0; i < batch; i++) {
      const av = aShared >= 0 ? aShared : view(backend, aOff + i * m * k * 4, m * k);
      const bv = bShared >= 0 ? bShared : view(backend, bOff + i * k * n * 4, k * n);
      const ov = view(backend, oOff + i * m * n * 4, m * n);
      rawBatchMatMul(av, aShape, 3, bv, bShape, 3, false, false, ov);
      if (av !== aShared) backend.wasm.tfjs.disposeData(av);
      if (bv !== bShared) backend.wasm.tfjs.disposeData(bv);
      backend.wasm.tfjs.disposeData(ov);
    }
  } finally {
    for (const id of [aShared, bShared]) if (id >= 0) backend.wasm.tfjs.disposeData(id);
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
    backend: WasmBackend & WasmBackendInternals;
    attrs: { transposeA: boolean; transposeB: boolean };
  }): tf.TensorInfo => {
    const { inputs, backend, attrs } = args;
    const materialise = (t: tf.TensorInfo) =>
      transposeKernel.kernelFunc({ inputs: { x: t }, backend, attrs: { perm: swapLast(t.shape.length) } } as never) as tf.TensorInfo;
    const a = attrs.transposeA ? materialise(inputs.a) : inputs.a;
    const b = attrs.transposeB ? materialise(inputs.b) : inputs.b;
    const batchShapeA = a.shape.slice(0, -2);
    const batchShapeB = b.shape.slice(0, -2);
    const batchA = tf.util.sizeFromShape(batchShapeA);
    const batchB = tf.util.sizeFromShape(batchShapeB);
    const batchShape = batchShapeA.length >= batchShapeB.length ? batchShapeA : batchShapeB;
    const simpleBroadcast = batchA === batchB ? tf.util.arraysEqual(batchShapeA, batchShapeB) : batchA === 1 || batchB === 1;
    let out: tf.TensorInfo;
    if (Math.max(batchA, batchB) > 1 && simpleBroadcast && a.dtype === 'float32' && b.dtype === 'float32') {
      const outShape = [...batchShape, a.shape[a.shape.length - 2]!, b.shape[b.shape.length - 1]!];
      out = slicedBatchMatMul(backend, a, b, outShape, batchA, batchB);
    } else {
      out = original.kernelFunc({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } } as never) as tf.TensorInfo;
    }
    if (a !== inputs.a) backend.disposeData(a.dataId);
    if (b !== inputs.b) backend.disposeData(b.dataId);
    return out;
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}
