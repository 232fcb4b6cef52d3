import * as tf from '@tensorflow/tfjs-core';
import { Rng, type RngState } from '@sentencelab/tensor';
import type { StatefulRng } from './loop.js';

/**
 * Every seeded generator a model holds (dropout masks, VAE noise, diffusion timesteps), found by
 * walking the model's object graph in property order, as one checkpointable state. Models keep
 * their `Rng`s private; reading them this way makes exact resume work for any model built on
 * tensor's `Rng` without each package exposing its generators.
 */
export function modelRngs(model: object): StatefulRng & { count: number } {
  const found: Rng[] = [];
  const seen = new Set<unknown>();
  const visit = (x: unknown): void => {
    if (x === null || typeof x !== 'object' || seen.has(x)) return;
    seen.add(x);
    if (x instanceof Rng) {
      found.push(x);
      return;
    }
    if (x instanceof tf.Tensor || ArrayBuffer.isView(x) || x instanceof ArrayBuffer) return;
    if (x instanceof Map) {
      for (const v of x.values()) visit(v);
      return;
    }
    if (Array.isArray(x)) {
      for (const v of x) visit(v);
      return;
    }
    for (const v of Object.values(x)) visit(v);
  };
  visit(model);
  return {
    count: found.length,
    getState: (): RngState[] => found.map((r) => r.getState()),
    setState(state: never) {
      const states = state as RngState[];
      if (!Array.isArray(states) || states.length !== found.length) {
        throw new Error(`checkpoint holds ${Array.isArray(states) ? states.length : 'no'} RNG states; the model has ${found.length} generators`);
      }
      found.forEach((r, i) => r.setState(states[i]!));
    },
  };
}
