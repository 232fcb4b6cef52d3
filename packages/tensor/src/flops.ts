/**
 * Training compute as a count of floating-point operations: the matrix products (forward and
 * backward) that run through the tfjs engine while a {@link FlopCounter} is started, two FLOPs
 * per multiply-add. It is the measure papers use to match compute, and unlike CPU seconds it does
 * not depend on the machine, its load, the backend or the number of kernel threads: the same
 * config trains with the same FLOPs everywhere.
 *
 * What counts: every `BatchMatMul` / `_FusedMatMul` kernel and this package's fused kernels that
 * contain products (Linear with bias, attention and its gradient, the merged attention context),
 * each by the product it computes, so a fused kernel and the composite it replaces count the same.
 * Attention's products count in full with a causal mask (the masked half too), as the composite
 * computes them. Element-wise work (norms, softmax, activations, AdamW) and lookups (embeddings)
 * count nothing; nor do column sums (a bias's gradient), which some backends compute as a product
 * with a vector of ones: {@link notMatrixProducts} marks them.
 *
 * Only the outermost kernel call counts: a kernel that runs others through the engine is counted
 * once, by its own rule.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelNames as K } from './webgpu/register.js';

type Shape = readonly number[];
type Inputs = Record<string, { shape: Shape } | undefined>;

/** Product of the broadcast batch dimensions of two matmul operands ([..., rows, cols]). */
function broadcastBatch(a: Shape, b: Shape): number {
  const da = a.slice(0, -2);
  const db = b.slice(0, -2);
  let n = 1;
  for (let i = 1; i <= Math.max(da.length, db.length); i++) n *= Math.max(da[da.length - i] ?? 1, db[db.length - i] ?? 1);
  return n;
}

/** a: [..., M, K] (or [..., K, M] transposed), b: [..., K, N] (or [..., N, K]): 2 M N K per batch entry. */
function matMulFlops(a: Shape, b: Shape, transposeA: boolean, transposeB: boolean): number {
  const m = transposeA ? a[a.length - 1]! : a[a.length - 2]!;
  const k = transposeA ? a[a.length - 2]! : a[a.length - 1]!;
  const n = transposeB ? b[b.length - 2]! : b[b.length - 1]!;
  return 2 * broadcastBatch(a, b) * m * n * k;
}

/** q: [batch, heads, q, dim], k: [batch, heads, kv, dim], v: [batch, heads, kv, dimV]: q k^T and p v. */
function attentionFlops(q: Shape, k: Shape, v: Shape): number {
  const [batch, heads, qLen, dim] = q as [number, number, number, number];
  return 2 * batch * heads * qLen * k[2]! * (dim + v[3]!);
}

const rules: Record<string, (inputs: Inputs, attrs: Record<string, unknown>) => number> = {
  BatchMatMul: (i, a) => matMulFlops(i['a']!.shape, i['b']!.shape, a['transposeA'] === true, a['transposeB'] === true),
  _FusedMatMul: (i, a) => matMulFlops(i['a']!.shape, i['b']!.shape, a['transposeA'] === true, a['transposeB'] === true),
  // x: [rows, in], w: [in, out]
  [K.matMulBias]: (i) => matMulFlops(i['x']!.shape, i['w']!.shape, false, false),
  [K.matMulBiasAdd]: (i) => matMulFlops(i['x']!.shape, i['w']!.shape, false, false),
  [K.attention]: (i) => attentionFlops(i['q']!.shape, i['k']!.shape, i['v']!.shape),
  [K.attentionBias]: (i) => attentionFlops(i['q']!.shape, i['k']!.shape, i['v']!.shape),
  // dv = p^T dy, dp = dy v^T, dq = ds k, dk = ds^T q: twice the forward's products.
  [K.attentionGrad]: (i) => 2 * attentionFlops(i['q']!.shape, i['k']!.shape, i['v']!.shape),
  // p: [batch, heads, q, kv], v: [batch, heads, kv, dimV]: p v
  [K.mergedContext]: (i) => matMulFlops(i['p']!.shape, i['v']!.shape, false, false),
  // dp = dy v^T, dv = p^T dy
  [K.mergedContextGrad]: (i) => 2 * matMulFlops(i['p']!.shape, i['v']!.shape, false, false),
};

/** FLOPs of the matrix products of one kernel call (0 for a kernel without any). */
export function kernelFlops(kernelName: string, inputs: Inputs, attrs: Record<string, unknown> = {}): number {
  const rule = rules[kernelName];
  return rule === undefined ? 0 : rule(inputs, attrs);
}

const running = new Set<FlopCounter>();
let depth = 0;
let suppressed = 0;
let installed = false;

/** Wraps the engine's `runKernel` once; the wrapper costs one Set lookup per kernel while nothing counts. */
function install(): void {
  if (installed) return;
  installed = true;
  const engine = tf.engine();
  const runKernel = engine.runKernel.bind(engine);
  engine.runKernel = ((kernelName: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap) => {
    if (running.size > 0 && depth === 0 && suppressed === 0) {
      const flops = kernelFlops(kernelName, inputs, attrs);
      if (flops > 0) for (const c of running) c.add(flops);
    }
    depth++;
    try {
      return runKernel(kernelName, inputs, attrs);
    } finally {
      depth--;
    }
  }) as typeof engine.runKernel;
}

/**
 * Runs `fn` with no FLOPs counted: for work that is not a matrix product although a backend may
 * compute it as one (a column sum as ones @ dy).
 */
export function notMatrixProducts<T>(fn: () => T): T {
  suppressed++;
  try {
    return fn();
  } finally {
    suppressed--;
  }
}

/**
 * Counts the matrix-product FLOPs of every kernel run while started, on any backend; several
 * counters may run at once (each sees every kernel). Counting is synchronous with the kernel
 * calls, so work between `start()` and `stop()` that awaits is counted as it is issued.
 *
 * ```ts
 * const counter = new FlopCounter().start();
 * const { value, grads } = await valueAndGrads(params, loss);
 * counter.stop();
 * counter.flops; // forward and backward products of the step
 * ```
 */
export class FlopCounter {
  private total: number;

  /** `initial`: FLOPs counted before (a resumed training run's, from its checkpoint). */
  constructor(initial = 0) {
    this.total = initial;
  }

  /** FLOPs counted so far (a float: exact as an integer up to 2^53, about 9e15). */
  get flops(): number {
    return this.total;
  }

  /** Adds `flops` (called by the engine wrapper for each counted kernel). */
  add(flops: number): void {
    this.total += flops;
  }

  start(): this {
    install();
    running.add(this);
    return this;
  }

  stop(): this {
    running.delete(this);
    return this;
  }

  /** Runs `fn` with this counter started (and stops it after, also when `fn` throws). */
  async during<T>(fn: () => Promise<T> | T): Promise<T> {
    this.start();
    try {
      return await fn();
    } finally {
      this.stop();
    }
  }
}

/** `1.23 TFLOP`: FLOPs in the largest unit (FLOP to EFLOP) that keeps the figure at least 1, three significant digits. */
export function formatFlops(flops: number): string {
  const units = ['FLOP', 'kFLOP', 'MFLOP', 'GFLOP', 'TFLOP', 'PFLOP', 'EFLOP'];
  let i = 0;
  let v = flops;
  while (Math.abs(Number(v.toPrecision(3))) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? String(Math.round(v)) : v.toPrecision(3)} ${units[i]}`;
}
