import { AdamW, disposeGrads, valueAndGrads } from '@sentencelab/tensor';
import type { SentencesInput } from './batch.js';
import type { SentenceVAE } from './model.js';

/**
 * A little training (AdamW, lr 1e-2, no decay) so that a test model's decoder listens to its
 * vectors: one step per call on the same sentences, `steps` times.
 */
export async function trainBriefly(model: SentenceVAE, sentences: SentencesInput, steps = 25): Promise<void> {
  const opt = new AdamW(model.namedParameters(), { lr: 1e-2, weightDecay: 0 });
  try {
    for (let step = 0; step < steps; step++) {
      const { grads } = await valueAndGrads(model, () => model.loss(sentences, { step }).loss);
      opt.applyGradients(grads);
      disposeGrads(grads);
    }
  } finally {
    opt.dispose();
  }
}
