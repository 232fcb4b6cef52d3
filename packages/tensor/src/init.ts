/** Parameter init schemes. Values come from the seeded {@link Rng}, never from tf.random*. */
import type { Rng } from './rng.js';

export type Init =
  | { kind: 'normal'; std: number }
  | { kind: 'uniform'; bound: number }
  | { kind: 'xavier' }
  | { kind: 'zeros' }
  | { kind: 'ones' };

export const init = {
  /** N(0, std²); GPT-2 uses std 0.02. */
  normal: (std = 0.02): Init => ({ kind: 'normal', std }),
  /** U(-bound, bound). */
  uniform: (bound: number): Init => ({ kind: 'uniform', bound }),
  /** Glorot uniform: U(±sqrt(6 / (fanIn + fanOut))), fans from the first and last dims. */
  xavier: (): Init => ({ kind: 'xavier' }),
  zeros: (): Init => ({ kind: 'zeros' }),
  ones: (): Init => ({ kind: 'ones' }),
};

export function initValues(scheme: Init, shape: readonly number[], rng: Rng): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  switch (scheme.kind) {
    case 'normal':
      return rng.normalArray(size, 0, scheme.std);
    case 'uniform':
      return rng.uniformArray(size, -scheme.bound, scheme.bound);
    case 'xavier': {
      const fanIn = shape[0] ?? 1;
      const fanOut = shape[shape.length - 1] ?? 1;
      const bound = Math.sqrt(6 / (fanIn + fanOut));
      return rng.uniformArray(size, -bound, bound);
    }
    case 'zeros':
      return new Float32Array(size);
    case 'ones':
      return new Float32Array(size).fill(1);
  }
}

/**
 * `shape`'s values with its last axis split into `parts` equal blocks, each drawn by
 * {@link initValues} as its own [..., last / parts] tensor, in order, then laid side by side:
 * what separate layers would have drawn, packed into one parameter.
 */
export function initParts(scheme: Init, shape: readonly number[], rng: Rng, parts: number): Float32Array {
  if (parts === 1) return initValues(scheme, shape, rng);
  const width = shape[shape.length - 1]!;
  const w = width / parts;
  if (!Number.isInteger(w)) throw new Error(`initParts: last dim ${width} of [${shape}] is not ${parts} equal parts`);
  const blocks = Array.from({ length: parts }, () => initValues(scheme, [...shape.slice(0, -1), w], rng));
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let r = 0; r < out.length / width; r++) {
    blocks.forEach((b, p) => out.set(b.subarray(r * w, (r + 1) * w), r * width + p * w));
  }
  return out;
}
