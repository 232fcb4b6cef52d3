import { TransformerStack, type Rng } from '@sentencelab/tensor';
import type { EncoderConfig } from './config.js';

/** The stack fields the encoder and decoder configs share. */
export type StackConfig = Omit<EncoderConfig, 'pooling' | 'tokenDropout'>;

/** A transformer stack from a config section. Parameters: `layers.<i>.*` (+ `norm` when pre-norm). */
export function createStack(c: StackConfig, dModel: number, crossAttention: boolean, rng: Rng): TransformerStack {
  return new TransformerStack({
    numLayers: c.layers,
    dModel,
    numHeads: c.heads,
    mlpHidden: c.ffnDim ?? 2 * dModel,
    activation: c.activation,
    norm: c.normType,
    prenorm: c.normPlacement === 'pre',
    crossAttention,
    dropout: c.dropout,
    rng,
  });
}
