/**
 * How a trained head draws the next vector, in words: its figures (L2, energy score,
 * contrastive accuracy) depend on it, so a table that compares heads prints it beside them.
 */
import type { ConceptHeadConfig } from './config.js';

/** E.g. `DDIM 40 steps (trailing), eta 0, from 0.6 x unit noise, guidance 3 (rescale 0.7)`. */
export function describeSampler(config: ConceptHeadConfig): string {
  switch (config.kind) {
    case 'base-lcm':
      return 'a point (no sampler)';
    case 'energy':
      return `one generator pass from ${config.generator.noiseDim}-d uniform noise`;
    case 'two-tower':
    case 'one-tower': {
      const { steps, spacing, eta, initialNoiseScale } = config.sampling;
      const { scale, rescale } = config.guidance;
      const guidance = scale === 1 ? 'no guidance (scale 1)' : `guidance ${scale}${rescale > 0 ? ` (rescale ${rescale})` : ''}`;
      return `DDIM ${steps} steps (${spacing}), eta ${eta}, from ${initialNoiseScale} x unit noise, ${guidance}`;
    }
  }
}
