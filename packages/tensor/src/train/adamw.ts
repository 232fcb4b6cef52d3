import * as tf from '@tensorflow/tfjs-core';
import type { NamedParameters } from '../module.js';
import { AdamWInPlaceBatch, adamwUpdate } from '../ops/adamw-update.js';

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (Loshchilov & Hutter); default 0.01 like PyTorch. */
  weightDecay?: number;
  /** Which parameters decay; default: rank >= 2 (matrices/embeddings, not biases or norm gains). */
  decay?: (name: string, param: tf.Variable) => boolean;
}

/** Optimizer state as plain tensors by name, for checkpoints. */
export interface AdamWState {
  step: number;
  m: Map<string, tf.Tensor>;
  v: Map<string, tf.Tensor>;
}

/**
 * AdamW, PyTorch semantics: p -= lr*wd*p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²;
 * p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  lr: number;
  private t = 0;
  private readonly params: NamedParameters;
  private readonly decays: Map<string, boolean>;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(params: NamedParameters, o: AdamWOptions) {
    this.params = params;
    this.lr = o.lr;
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0.01;
    const decay = o.decay ?? ((_n: string, p: tf.Variable) => p.rank >= 2);
    this.decays = new Map(params.map(([n, p]) => [n, decay(n, p)]));
    const zeros = (p: tf.Variable) => {
      const z = tf.zerosLike(p);
      const v = tf.variable(z, false);
      z.dispose();
      return v;
    };
    for (const [n, p] of params) {
      this.m.set(n, zeros(p));
      this.v.set(n, zeros(p));
    }
  }

  /** Number of steps taken. */
  get step(): number {
    return this.t;
  }

  /**
   * Applies one update. `grads` maps parameter names to gradients (parameters without a
   * gradient are left alone, moments included). `lr` overrides the current rate.
   */
  applyGradients(grads: Map<string, tf.Tensor> | Record<string, tf.Tensor>, lr = this.lr): void {
    const g = grads instanceof Map ? grads : new Map(Object.entries(grads));
    for (const name of g.keys()) if (!this.m.has(name)) throw new Error(`AdamW: gradient for unknown parameter "${name}"`);
    this.t += 1;
    this.lr = lr;
    const bc1 = 1 - Math.pow(this.beta1, this.t);
    const bc2 = 1 - Math.pow(this.beta2, this.t);
    const shared = { beta1: this.beta1, beta2: this.beta2, eps: this.eps, lr, bc1, bc2 };
    // In-place steps are recorded several per dispatch (webgpu); any other update flushes them first.
    const batch = new AdamWInPlaceBatch(shared);
    try {
      for (const [name, p] of this.params) {
        const grad = g.get(name);
        if (grad === undefined) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const decay = this.decays.get(name) === true && this.weightDecay !== 0 ? 1 - lr * this.weightDecay : 1;
        if (batch.add({ p, m, v, g: grad, decay })) continue;
        batch.flush();
        const next = adamwUpdate(p, m, v, grad, { ...shared, decay });
        m.assign(next.m);
        v.assign(next.v);
        p.assign(next.p);
        next.m.dispose();
        next.v.dispose();
        next.p.dispose();
      }
    } finally {
      batch.flush();
    }
  }

  /** The moments (live tensors owned by the optimizer: copy before disposing anything) and step. */
  getState(): AdamWState {
    return { step: this.t, m: new Map(this.m), v: new Map(this.v) };
  }

  /** Restores moments and step; names and shapes must match the parameters. */
  setState(state: AdamWState): void {
    for (const [name] of this.params) {
      for (const [which, src, dst] of [['m', state.m, this.m], ['v', state.v, this.v]] as const) {
        const t = src.get(name);
        const target = dst.get(name)!;
        if (t === undefined) throw new Error(`AdamW.setState: missing ${which} for "${name}"`);
        if (!tf.util.arraysEqual(t.shape, target.shape)) {
          throw new Error(`AdamW.setState: ${which} for "${name}" has shape [${t.shape}], expected [${target.shape}]`);
        }
        target.assign(t);
      }
    }
    if (!(Number.isInteger(state.step) && state.step >= 0)) throw new Error(`AdamW.setState: bad step ${state.step}`);
    this.t = state.step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
