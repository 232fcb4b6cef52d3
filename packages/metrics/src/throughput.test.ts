import { describe, expect, test } from 'vitest';
import { trainingThroughput } from './throughput.js';

describe('trainingThroughput', () => {
  test('hand-computed, skipping the warm-up step', () => {
    const r = trainingThroughput(
      [
        { tokens: 100, ms: 5000 },
        { tokens: 100, ms: 250 },
        { tokens: 300, ms: 750 },
      ],
      { skip: 1 },
    );
    // 400 tokens in 1 s over 2 steps.
    expect(r).toEqual({ tokensPerS: 400, stepsPerS: 2, steps: 2, tokens: 400, seconds: 1 });
  });

  test('errors name the bad step', () => {
    expect(() => trainingThroughput([{ tokens: 1, ms: 1 }], { skip: 1 })).toThrow(/no steps left after skipping 1 of 1/);
    expect(() => trainingThroughput([{ tokens: 1, ms: 1 }, { tokens: 1, ms: 0 }])).toThrow(/step 1 has ms 0/);
  });
});
