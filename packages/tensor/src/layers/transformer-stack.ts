import * as tf from '@tensorflow/tfjs-core';
import { init as inits } from '../init.js';
import { Module } from '../module.js';
import { makeNorm, type LayerNorm, type RMSNorm } from './norm.js';
import { TransformerBlock, type BlockCache, type TransformerBlockCallOptions, type TransformerBlockOptions } from './transformer-block.js';

export interface TransformerStackOptions extends TransformerBlockOptions {
  numLayers: number;
  /** Norm after the last block; default true for pre-norm stacks, false for post-norm. */
  finalNorm?: boolean;
  /** Scale the residual output projections' init by 1/sqrt(2 numLayers) (GPT-2); default true when `outInit` is not given and init is normal. */
  scaleResidualInit?: boolean;
}

/** Decoding state of a whole stack: one {@link BlockCache} per layer. */
export class StackCache {
  constructor(readonly layers: BlockCache[]) {}

  /** Positions already decoded. */
  get length(): number {
    return this.layers[0]?.self.length ?? 0;
  }

  /** Bytes of every layer's cached self- and cross-attention keys and values. */
  bytes(): number {
    let n = 0;
    for (const l of this.layers) n += l.self.bytes() + l.cross.bytes();
    return n;
  }

  dispose(): void {
    for (const l of this.layers) {
      l.self.dispose();
      l.cross.dispose();
    }
  }
}

export interface TransformerStackCallOptions extends Omit<TransformerBlockCallOptions, 'cache'> {
  cache?: StackCache;
}

/**
 * `numLayers` transformer blocks plus an optional final norm. Parameters: `layers.<i>.*`, `norm`.
 * x: [batch, seq, dModel] -> [batch, seq, dModel].
 */
export class TransformerStack extends Module {
  readonly layers: TransformerBlock[] = [];
  readonly norm: LayerNorm | RMSNorm | undefined;

  constructor(o: TransformerStackOptions) {
    super();
    if (!(Number.isInteger(o.numLayers) && o.numLayers >= 1)) throw new Error(`TransformerStack: numLayers must be >= 1, got ${o.numLayers}`);
    const baseStd = o.init?.kind === 'normal' ? o.init.std : 0.02;
    const scale = (o.scaleResidualInit ?? true) && (o.init === undefined || o.init.kind === 'normal');
    const outInit = o.outInit ?? (scale ? inits.normal(baseStd / Math.sqrt(2 * o.numLayers)) : undefined);
    for (let i = 0; i < o.numLayers; i++) {
      this.layers.push(this.addModule(`layers.${i}`, new TransformerBlock({ ...o, outInit })));
    }
    const prenorm = o.prenorm ?? true;
    if (o.finalNorm ?? prenorm) this.norm = this.addModule('norm', makeNorm(o.norm ?? 'layer', { dim: o.dModel, rng: o.rng }));
  }

  createCache(): StackCache {
    return new StackCache(this.layers.map((l) => l.createCache()));
  }

  forward(x: tf.Tensor, o: TransformerStackCallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const outs = this.layerOutputs(x, o);
      const h = outs[outs.length - 1]!;
      return this.norm === undefined ? h : this.norm.forward(h);
    });
  }

  /**
   * Each block's output, before the final norm (for looking inside the stack, e.g. a lens):
   * x: [batch, seq, dModel] -> numLayers tensors [batch, seq, dModel]. `forward` is the final
   * norm of the last one, computed by this same loop.
   */
  layerOutputs(x: tf.Tensor, o: TransformerStackCallOptions = {}): tf.Tensor[] {
    return tf.tidy(() => {
      const outs: tf.Tensor[] = [];
      let h = x;
      this.layers.forEach((layer, i) => {
        h = layer.forward(h, { ...o, cache: o.cache?.layers[i] });
        outs.push(h);
      });
      return outs;
    });
  }
}
