/**
 * Which way a diffusion head's sampler is off, read from its validation figures: the eval prints
 * it beside the head's sampler, so a user turns the sampler on the validation documents and the
 * test figures stay a held-out measurement of the choice (apps/exp/README.md, "Choosing a
 * sampler").
 */
import { intervalKeys, storedBounds } from '@sentencelab/runs';
import { figureWithInterval } from '../table.js';

/**
 * `draws too alike on the validation documents (val. spread / skill 0.5450 [0.5310, 0.5580]): more
 * initial noise or less guidance widens them` when the 95% interval of `val_spread_ratio` lies
 * wholly below 1, the opposite when wholly above; '' when it includes 1 or is not stored.
 */
export function spreadHint(results: Readonly<Record<string, unknown>>): string {
  const value = results['val_spread_ratio'];
  const ci = storedBounds(results, intervalKeys('val_spread_ratio'));
  if (typeof value !== 'number' || !ci || (ci.low <= 1 && ci.high >= 1)) return '';
  const figure = `val. spread / skill ${figureWithInterval(value, ci.low, ci.high)}`;
  return ci.high < 1
    ? `draws too alike on the validation documents (${figure}): more initial noise or less guidance widens them`
    : `draws too scattered on the validation documents (${figure}): less initial noise narrows them`;
}
