/**
 * The parameter registry: every block extends {@link Module}, registers its parameters and
 * children by name, and gets hierarchical names ("decoder.layers.0.attn.qkv.weight"), counts,
 * train/eval mode and disposal for free.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initParts, type Init } from './init.js';
import type { Rng } from './rng.js';

export type NamedParameters = Array<[string, tf.Variable]>;

export abstract class Module {
  private readonly params = new Map<string, tf.Variable>();
  private readonly children = new Map<string, Module>();
  private readonly packs = new Map<string, string[]>();
  private isTraining = true;

  /**
   * Creates, registers and returns a trainable parameter initialised from `rng`. With `parts`, its
   * last axis is that many blocks side by side, each drawn (and its fans taken) as its own tensor.
   */
  protected addParam(name: string, shape: number[], scheme: Init, rng: Rng, parts = 1): tf.Variable {
    this.checkName(name);
    const init = tf.tensor(initParts(scheme, shape, rng, parts), shape, 'float32');
    const v = tf.variable(init, true);
    init.dispose(); // the variable holds its own reference to the data
    this.params.set(name, v);
    return v;
  }

  /**
   * Registers a child module; its parameters appear as `<name>.<param>`. `packs`: the child holds
   * what were once these sibling modules' parameters side by side along the last axis (attention's
   * `qkv` for `q`, `k`, `v`), so weights saved before the packing still load
   * ({@link packLegacyParameters}).
   */
  protected addModule<M extends Module>(name: string, child: M, packs?: string[]): M {
    this.checkName(name);
    this.children.set(name, child);
    if (packs !== undefined) this.packs.set(name, packs);
    return child;
  }

  private checkName(name: string): void {
    if (name === '' || name.startsWith('.') || name.endsWith('.')) throw new Error(`bad parameter/module name "${name}"`);
    if (this.params.has(name) || this.children.has(name)) {
      throw new Error(`${this.constructor.name}: "${name}" is already registered`);
    }
  }

  /** All parameters, depth first in registration order, with dotted names. */
  namedParameters(prefix = ''): NamedParameters {
    const out: NamedParameters = [];
    for (const [n, v] of this.params) out.push([prefix + n, v]);
    for (const [n, m] of this.children) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /** Parameters by name (the checkpoint view). */
  parameterMap(): Map<string, tf.Variable> {
    return new Map(this.namedParameters());
  }

  /** Number of scalar parameters (optionally only those whose name starts with `prefix`). */
  numParams(prefix = ''): number {
    let n = 0;
    for (const [name, v] of this.namedParameters()) if (name.startsWith(prefix)) n += v.size;
    return n;
  }

  /** Parameter counts per top-level child (and "(own)" for direct parameters). */
  paramCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    let own = 0;
    for (const v of this.params.values()) own += v.size;
    if (own > 0) out['(own)'] = own;
    for (const [n, m] of this.children) out[n] = m.numParams();
    return out;
  }

  get training(): boolean {
    return this.isTraining;
  }

  /** Sets train (dropout on) or eval mode on this module and all its children. */
  train(on = true): this {
    this.isTraining = on;
    for (const m of this.children.values()) m.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Runs `fn` in eval mode (no dropout), then restores the mode the module was in. */
  inEval<T>(fn: () => T): T {
    const was = this.training;
    this.eval();
    try {
      return fn();
    } finally {
      this.train(was);
    }
  }

  /**
   * `values` by parameter name (weights, or an optimizer's moments) with the parts of a packed
   * child saved under their old names (`attn.q.weight`, `attn.k.weight`, `attn.v.weight`)
   * concatenated along the last axis under the packed name (`attn.qkv.weight`); everything else
   * passes through. A new map; the concatenations are new tensors (call inside a tidy).
   */
  packLegacyParameters(values: ReadonlyMap<string, tf.Tensor>): Map<string, tf.Tensor> {
    const out = new Map(values);
    this.packInto(out, '');
    return out;
  }

  private packInto(values: Map<string, tf.Tensor>, prefix: string): void {
    for (const [name, child] of this.children) {
      const parts = this.packs.get(name);
      if (parts !== undefined) {
        for (const [param] of child.namedParameters()) {
          const packed = `${prefix}${name}.${param}`;
          const old = parts.map((p) => `${prefix}${p}.${param}`);
          if (values.has(packed) || !old.every((n) => values.has(n))) continue;
          values.set(packed, tf.concat(old.map((n) => values.get(n)!), -1));
          for (const n of old) values.delete(n);
        }
      }
      child.packInto(values, `${prefix}${name}.`);
    }
  }

  /**
   * Copies values into the parameters by name. Every parameter must be present with the same
   * shape; unknown names are an error too, so a renamed layer cannot load silently half-way.
   * Weights saved before a child was packed load too ({@link packLegacyParameters}).
   */
  loadParameters(values: Map<string, tf.Tensor> | Record<string, tf.Tensor>): void {
    tf.tidy(() => this.loadPacked(this.packLegacyParameters(values instanceof Map ? values : new Map(Object.entries(values)))));
  }

  private loadPacked(src: Map<string, tf.Tensor>): void {
    const own = this.parameterMap();
    const missing = [...own.keys()].filter((k) => !src.has(k));
    const unknown = [...src.keys()].filter((k) => !own.has(k));
    if (missing.length > 0 || unknown.length > 0) {
      throw new Error(
        `loadParameters: ${missing.length > 0 ? `missing ${missing.join(', ')}` : ''}${missing.length > 0 && unknown.length > 0 ? '; ' : ''}${unknown.length > 0 ? `unknown ${unknown.join(', ')}` : ''}`,
      );
    }
    for (const [name, v] of own) {
      const t = src.get(name)!;
      if (!tf.util.arraysEqual(t.shape, v.shape)) {
        throw new Error(`loadParameters: "${name}" has shape [${t.shape}] but the model expects [${v.shape}]`);
      }
      v.assign(t.dtype === 'float32' ? t : tf.cast(t, 'float32'));
    }
  }

  /** Frees every parameter's memory; the module is unusable afterwards. */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const m of this.children.values()) m.dispose();
  }
}
