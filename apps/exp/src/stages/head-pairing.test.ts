import { bootstrapRatio, pairedBrierDifferences } from '@sentencelab/metrics';
import { describe, expect, test } from 'vitest';
import { headPairing, pairedBrier, pairedScore, pairingOf } from './head-pairing.js';

const v = (...xs: number[]) => Float32Array.from(xs);

describe('pairing two heads on the same targets', () => {
  // Three targets over two documents: the first two belong to document 0, the last to document 1.
  const targets = [v(1, 0), v(0, 1), v(1, 1)];
  const docOf = [0, 0, 1];

  test('per-document sums of the scores and one fingerprint for the same targets', () => {
    const a = headPairing(targets, docOf, { energyScore: [1, 2, 4], energyScorePosterior: [2, 2, 2] }, 2);
    expect(a.documents).toEqual([
      { targets: 2, energyScore: 3, energyScorePosterior: 4 },
      { targets: 1, energyScore: 4, energyScorePosterior: 2 },
    ]);
    expect(headPairing(targets.map((t) => t.slice()), docOf, { energyScore: [0, 0, 0] }, 2).fingerprint).toBe(a.fingerprint);
    // Another target value, or the same targets cut into other documents: other targets.
    expect(headPairing([v(1, 0), v(0, 1), v(1, 1.5)], docOf, { energyScore: [1, 2, 4] }, 2).fingerprint).not.toBe(a.fingerprint);
    expect(headPairing(targets, [0, 1, 1], { energyScore: [1, 2, 4] }, 2).fingerprint).not.toBe(a.fingerprint);
    expect(() => headPairing(targets, docOf, { energyScore: [1, 2] }, 2)).toThrow(/3 targets, 3 documents of them, 2 scores \(energyScore\)/);
    expect(pairingOf({ pairing: a })).toEqual(a);
    expect(pairingOf({})).toBeUndefined();
  });

  test('the difference is the mean of the per-target differences, its interval the bootstrap of the per-document differences', () => {
    const a = headPairing(targets, docOf, { energyScore: [1, 2, 4] }, 2);
    const b = headPairing(targets, docOf, { energyScore: [2, 2, 1], energyScorePosterior: [0, 0, 0] }, 2);
    const paired = pairedScore(a, b, 'energyScore', { resamples: 200, seed: 3 });
    if (paired === 'other targets' || paired === undefined) throw new Error('expected a pairing');
    // (1 - 2 + 2 - 2 + 4 - 1) / 3
    expect(paired.difference).toBeCloseTo(2 / 3, 12);
    expect(paired.interval).toEqual(bootstrapRatio([{ num: -1, den: 2 }, { num: 3, den: 1 }], { resamples: 200, seed: 3 }));
    expect(pairedScore(a, headPairing([v(9, 9), ...targets.slice(1)], docOf, { energyScore: [2, 2, 1] }, 2), 'energyScore', { resamples: 10, seed: 0 })).toBe('other targets');
    // A score only one of them kept (a plain SentenceVAE's head has no posterior score): not paired on it.
    expect(pairedScore(a, b, 'energyScorePosterior', { resamples: 10, seed: 0 })).toBeUndefined();
  });

  test('two sentences ahead: summed over the rolled-out targets only, paired only on the same ones', () => {
    // Targets 1 and 2 rolled out (document 0's second, document 1's only).
    const a = headPairing(targets, docOf, { energyScore: [1, 2, 4] }, 2, { picks: [1, 2], scores: { energyScoreAhead: [5, 7] } });
    expect(a.documents).toEqual([
      { targets: 2, aheadTargets: 1, energyScore: 3, energyScoreAhead: 5 },
      { targets: 1, aheadTargets: 1, energyScore: 4, energyScoreAhead: 7 },
    ]);
    const b = headPairing(targets, docOf, { energyScore: [0, 0, 0] }, 2, { picks: [1, 2], scores: { energyScoreAhead: [4, 4] } });
    const paired = pairedScore(a, b, 'energyScoreAhead', { resamples: 200, seed: 3 });
    if (paired === 'other targets' || paired === undefined) throw new Error('expected a pairing');
    // (5 - 4 + 7 - 4) / 2: over the two rolled-out targets, not the three.
    expect(paired.difference).toBeCloseTo(2, 12);
    expect(paired.interval).toEqual(bootstrapRatio([{ num: 1, den: 1 }, { num: 3, den: 1 }], { resamples: 200, seed: 3 }));
    // Other picks (another aheadSentences): not paired ahead, still paired on the rest.
    const other = headPairing(targets, docOf, { energyScore: [0, 0, 0] }, 2, { picks: [0, 2], scores: { energyScoreAhead: [4, 4] } });
    expect(pairedScore(a, other, 'energyScoreAhead', { resamples: 10, seed: 0 })).toBe('other targets');
    expect(pairedScore(a, other, 'energyScore', { resamples: 10, seed: 0 })).not.toBe('other targets');
    expect(() => headPairing(targets, docOf, {}, 2, { picks: [1, 2], scores: { energyScoreAhead: [1] } })).toThrow(/2 targets rolled out, 1 scores \(energyScoreAhead\)/);
  });

  test('BrierLM paired on the same next sentences; other sentences (another brierSentences) are said not to be, not an error', () => {
    const item = (target: number[], x: number[], y: number[]) => ({ target, samples: [x, y] as [number[], number[]] });
    const a = { ...headPairing(targets, docOf, { energyScore: [0, 0, 0] }, 2), brier: [[item([5, 2], [5, 2], [5, 2])], [item([7, 2], [7, 2], [1, 2])]] };
    const b = { ...headPairing(targets, docOf, { energyScore: [0, 0, 0] }, 2), brier: [[item([5, 2], [1, 2], [3, 2])], [item([7, 2], [7, 2], [7, 2])]] };
    expect(pairedBrier(a, b, { resamples: 50, seed: 1 })).toEqual(pairedBrierDifferences(a.brier, b.brier, { resamples: 50, seed: 1 }));
    expect(pairedBrier(a, { ...b, brier: [b.brier[0]!, []] }, { resamples: 50, seed: 1 })).toBe('other sentences');
    expect(pairedBrier(a, { ...b, fingerprint: 'another' }, { resamples: 50, seed: 1 })).toBe('other sentences');
    expect(pairedBrier(a, headPairing(targets, docOf, { energyScore: [0, 0, 0] }, 2), { resamples: 50, seed: 1 })).toBeUndefined();
  });
});

