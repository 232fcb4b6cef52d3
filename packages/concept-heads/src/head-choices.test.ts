import { describe, expect, test } from 'vitest';
import { diffusionChoiceGiven, headGenerateOptions } from './head-choices.js';

const base = { maxSentences: 2, seed: 4 };

describe('head choices', () => {
  test("a head gets only the choices given, under its config's names", () => {
    expect(headGenerateOptions(base)).toEqual({ maxSentences: 2, seed: 4 });
    expect(headGenerateOptions({ ...base, feedback: 'reencode', guidance: 1, initialNoise: 1.5, samplingSteps: 10, eta: 0.3 })).toEqual({
      maxSentences: 2,
      seed: 4,
      feedback: 'reencode',
      guidance: { scale: 1 },
      sampling: { steps: 10, eta: 0.3, initialNoiseScale: 1.5 },
    });
    // 0 is a value (guidance off, a deterministic DDIM), not "not given".
    expect(headGenerateOptions({ ...base, guidance: 0, eta: 0 })).toEqual({ maxSentences: 2, seed: 4, guidance: { scale: 0 }, sampling: { eta: 0 } });
  });

  test('the first diffusion-only choice given is named; feedback is not one', () => {
    expect(diffusionChoiceGiven({})).toBeUndefined();
    expect(diffusionChoiceGiven({ eta: 0 })).toBe('eta');
    expect(diffusionChoiceGiven({ samplingSteps: 3, guidance: 1 })).toBe('guidance');
    expect(diffusionChoiceGiven({ feedback: 'reencode' } as Record<string, unknown>)).toBeUndefined();
  });
});
