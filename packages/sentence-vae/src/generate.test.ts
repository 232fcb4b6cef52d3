import { describe, expect, it } from 'vitest';
import { decodeOptionsFrom } from './generate.js';

describe('decodeOptionsFrom', () => {
  it("a user's settings decode greedily at temperature 0, else sample", () => {
    expect(decodeOptionsFrom({ temperature: 0, topP: 0.9, maxTokens: 9, seed: 4 })).toEqual({ strategy: 'greedy', temperature: 0, topP: 0.9, maxTokens: 9, seed: 4 });
    expect(decodeOptionsFrom({ temperature: 0.7, topP: 0.9, maxTokens: 9, seed: 4 })).toEqual({ strategy: 'sample', temperature: 0.7, topP: 0.9, maxTokens: 9, seed: 4 });
  });
});
