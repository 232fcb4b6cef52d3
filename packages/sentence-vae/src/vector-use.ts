import * as tf from '@tensorflow/tfjs-core';
import type { SentencesInput } from './batch.js';
import type { SentenceVAE } from './model.js';

/** How much the sentence vectors carry, measured on the same tokens two ways. */
export interface VectorUse {
  /** Decoder NLL per scored token (nats; tokens + EOS) given each sentence's own vector. */
  own: number;
  /** The same tokens given another sentence's vector from the same batch. */
  shuffled: number;
  /** shuffled - own: ~0 when the decoder ignores the vector, large when the vector carries the sentence. */
  gap: number;
  /** Scored tokens (in each of the two losses). */
  tokens: number;
  sentences: number;
}

/**
 * The SentenceVAE diagnostic that tells a decoder which reads its vector from one that is a
 * plain language model: teacher-forced NLL of every sentence given its own vector, and given
 * the vector of the sentence half a batch away (row i reads row (i + floor(n/2)) mod n, a
 * derangement that mostly lands in another document of a [B, S, L] batch). The two sums cover
 * the very same tokens; batches of one sentence can't be shuffled and are skipped. Eval mode
 * (no dropout; the posterior mean when variational). One asynchronous read for all batches.
 */
export async function vectorUse(model: SentenceVAE, batches: readonly SentencesInput[]): Promise<VectorUse> {
  const sums: tf.Scalar[] = [];
  let tokens = 0;
  let sentences = 0;
  model.inEval(() => {
    for (const input of batches) {
      const batch = model.sentences(input);
      const n = batch.n;
      if (n < 2) continue;
      const shift = Math.floor(n / 2);
      const perm = Int32Array.from({ length: n }, (_, i) => (i + shift) % n);
      const [own, shuffled] = tf.tidy(() => {
        const memory = model.encoder.forward(batch); // [n, d]
        const other = tf.gather(memory, tf.tensor1d(perm, 'int32')); // [n, d]: row i holds row perm[i]'s vector
        const a = model.decoder.loss(memory, batch, { nll: true });
        const b = model.decoder.loss(other, batch, { nll: true });
        tokens += a.count;
        return [a.nll!, b.nll!];
      });
      sums.push(own!, shuffled!);
      sentences += n;
    }
  });
  if (sums.length === 0) throw new Error('vectorUse: no batch has two sentences to shuffle vectors between');
  const stacked = tf.stack(sums); // [2 * batches]: own, shuffled, own, ...
  tf.dispose(sums);
  let values: Float32Array;
  try {
    values = (await stacked.data()) as Float32Array;
  } finally {
    stacked.dispose();
  }
  let own = 0;
  let shuffled = 0;
  for (let i = 0; i < values.length; i += 2) {
    own += values[i]!;
    shuffled += values[i + 1]!;
  }
  return { own: own / tokens, shuffled: shuffled / tokens, gap: (shuffled - own) / tokens, tokens, sentences };
}
