import type { Rng } from '@sentencelab/tensor';
import type { TeacherForcing } from './batch.js';

/**
 * Word dropout on the decoder's teacher-forced inputs (Bowman et al. 2016, "Generating Sentences
 * from a Continuous Space"): each real token input (t1..tn; never the BOS) is replaced by
 * `token` with probability `rate`, so the decoder cannot predict the next word from the words
 * before it alone and has to read the sentence vector. Targets and mask are untouched.
 * Draws one uniform per real token input from `rng`, in row-major order; returns a new
 * inputs array [n * T] (the given one is not modified). rate 0 returns the inputs as they are.
 */
export function dropWords(tf: TeacherForcing, lengths: ArrayLike<number>, rate: number, token: number, rng: Rng): Int32Array {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`word dropout rate must be in [0, 1], got ${rate}`);
  if (rate === 0) return tf.inputs;
  const inputs = tf.inputs.slice();
  for (let i = 0; i < tf.n; i++) {
    // Inputs of sentence i: position 0 is the BOS, positions 1..len are t1..tn.
    for (let j = 1; j <= lengths[i]!; j++) if (rng.uniform() < rate) inputs[i * tf.T + j] = token;
  }
  return inputs;
}
