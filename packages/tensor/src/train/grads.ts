import '../gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import type { Module, NamedParameters } from '../module.js';
import { variableGrads } from './backward.js';
import { metricScalars, readMetricValues, type MetricValues } from './metrics.js';

export interface ValueAndGrads {
  /** The (unscaled) loss value. */
  loss: number;
  /** The loss function's other metrics (e.g. a VAE's KL term), read together with the loss. */
  metrics: Record<string, number>;
  /** Gradients by parameter name (caller disposes, e.g. with {@link disposeGrads}). */
  grads: Map<string, tf.Tensor>;
}

export interface ValueAndGradsOptions {
  /**
   * Loss-scaling hook: the loss is multiplied by this before differentiation and the grads
   * divided by it afterwards (for low-precision backends); default 1.
   */
  lossScale?: number;
}

/** A scalar loss, or a loss with metrics (numbers, or scalars read with the loss). */
export type LossOutput = tf.Scalar | { loss: tf.Scalar; metrics?: MetricValues };

/**
 * Runs `lossFn` and differentiates it w.r.t. every trainable parameter of `params` (a module or
 * its named parameters): frozen ones get no gradient, so they never reach the optimizer or the
 * gradient norm. The loss and the metric scalars are read back together, with one asynchronous
 * read (backends such as webgpu in Node have no synchronous reads). The backward frees each
 * node's gradients and saved tensors as soon as it has run ({@link variableGrads}).
 */
export async function valueAndGrads(params: Module | NamedParameters, lossFn: () => LossOutput, o: ValueAndGradsOptions = {}): Promise<ValueAndGrads> {
  const named = (Array.isArray(params) ? params : params.namedParameters()).filter(([, v]) => v.trainable);
  const scale = o.lossScale ?? 1;
  let extra: MetricValues = {};
  const { value, grads } = variableGrads(() => {
    const out = lossFn();
    let loss = out;
    if (!(out instanceof tf.Tensor)) {
      loss = out.loss;
      // Metric scalars outlive the gradient's scope; they are read (and disposed) with the loss.
      extra = Object.fromEntries(Object.entries(out.metrics ?? {}).filter(([k]) => k !== 'loss'));
      for (const m of metricScalars(extra)) tf.keep(m);
    }
    return scale === 1 ? (loss as tf.Scalar) : tf.mul(loss as tf.Scalar, scale);
  }, named.map(([, v]) => v));
  let values: Record<string, number>;
  try {
    values = await readMetricValues({ ...extra, loss: value });
  } catch (e) {
    tf.dispose(Object.values(grads).filter((g) => g !== null));
    throw e;
  }
  const { loss, ...metrics } = values;
  const out = new Map<string, tf.Tensor>();
  for (const [n, v] of named) {
    const g = grads[v.name];
    if (g == null) continue;
    if (scale === 1) out.set(n, g);
    else {
      out.set(n, tf.div(g, scale));
      g.dispose();
    }
  }
  return { loss: loss! / scale, metrics, grads: out };
}

export function disposeGrads(grads: Map<string, tf.Tensor>): void {
  for (const g of grads.values()) g.dispose();
}

/**
 * Inputs per addN: WebGPU guarantees 8 storage buffers per shader stage (one is the output), and
 * webgpu's addN does not split larger calls.
 */
const ADD_N_INPUTS = 7;

/**
 * Sum of same-shaped tensors in order, at most {@link ADD_N_INPUTS} per addN; each chunk starts
 * from the running sum, so a sequential addN (cpu) gives exactly the one-call result.
 */
function sumInOrder(xs: tf.Tensor[]): tf.Tensor {
  let acc = tf.addN(xs.slice(0, ADD_N_INPUTS));
  for (let i = ADD_N_INPUTS; i < xs.length; i += ADD_N_INPUTS - 1) acc = tf.addN([acc, ...xs.slice(i, i + ADD_N_INPUTS - 1)]);
  return acc;
}

/** sqrt(sum of squares of all gradients), read back with one asynchronous read. */
export async function globalNorm(grads: Map<string, tf.Tensor>): Promise<number> {
  if (grads.size === 0) return 0;
  const total = tf.tidy(() => sumInOrder([...grads.values()].map((g) => tf.sum(tf.square(g)))));
  try {
    return Math.sqrt((await total.data())[0]!);
  } finally {
    total.dispose();
  }
}

/**
 * Global-norm clipping (PyTorch clip_grad_norm_): if the norm exceeds maxNorm, every gradient
 * is scaled by maxNorm / (norm + 1e-6). Replaces (and disposes) the tensors in place; returns
 * the norm before clipping. A non-finite norm is returned as is and nothing is scaled.
 */
export async function clipGradNorm(grads: Map<string, tf.Tensor>, maxNorm: number): Promise<number> {
  const norm = await globalNorm(grads);
  if (!Number.isFinite(norm) || norm <= maxNorm) return norm;
  const factor = maxNorm / (norm + 1e-6);
  for (const [n, g] of grads) {
    grads.set(n, tf.mul(g, factor));
    g.dispose();
  }
  return norm;
}

/** Sums gradients over micro-batches; `mean()` gives their average for the optimizer. */
export class GradAccumulator {
  private sums = new Map<string, tf.Tensor>();
  private n = 0;

  /** Adds (and disposes) one micro-batch's gradients. */
  add(grads: Map<string, tf.Tensor>): void {
    for (const [name, g] of grads) {
      const prev = this.sums.get(name);
      if (prev === undefined) this.sums.set(name, g);
      else {
        this.sums.set(name, tf.add(prev, g));
        prev.dispose();
        g.dispose();
      }
    }
    this.n += 1;
  }

  get count(): number {
    return this.n;
  }

  /** The averaged gradients (new tensors owned by the caller); the accumulator is reset. */
  mean(): Map<string, tf.Tensor> {
    if (this.n === 0) throw new Error('GradAccumulator.mean: no gradients were added');
    const out = new Map<string, tf.Tensor>();
    for (const [name, s] of this.sums) {
      out.set(name, tf.div(s, this.n));
      s.dispose();
    }
    this.sums = new Map();
    this.n = 0;
    return out;
  }

  reset(): void {
    disposeGrads(this.sums);
    this.sums = new Map();
    this.n = 0;
  }
}

/**
 * Dynamic loss scaling: use `scale` as `lossScale`, then await `update(grads)` — it reports
 * whether the step may be applied (all grads finite) and halves the scale on overflow, doubling
 * it after `growthInterval` clean steps.
 */
export class DynamicLossScaler {
  private clean = 0;

  constructor(
    public scale = 2 ** 15,
    readonly growthInterval = 2000,
  ) {}

  async update(grads: Map<string, tf.Tensor>): Promise<boolean> {
    const finite = Number.isFinite(await globalNorm(grads));
    if (!finite) {
      this.scale = Math.max(1, this.scale / 2);
      this.clean = 0;
      return false;
    }
    this.clean += 1;
    if (this.clean >= this.growthInterval) {
      this.scale *= 2;
      this.clean = 0;
    }
    return true;
  }
}
