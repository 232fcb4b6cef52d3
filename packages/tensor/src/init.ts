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
