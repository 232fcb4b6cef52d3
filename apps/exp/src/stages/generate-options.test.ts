import { describe, expect, test } from 'vitest';
import { checkGenerateOptions } from './generate-options.js';
import type { GenerateOptions } from './types.js';

const base: GenerateOptions = { maxSentences: 2, maxTokens: 9, temperature: 0, topP: 0.9, seed: 4 };

describe('exp generate options', () => {
  test('an option a stage kind cannot use is an error naming its flag and the kinds that take it', () => {
    expect(() => checkGenerateOptions('lcm-mse', { ...base, guidance: 2 })).toThrow('--guidance applies to diffusion heads (lcm-diffusion) only; this run is a lcm-mse stage');
    expect(() => checkGenerateOptions('lcm-energy', { ...base, samplingSteps: 5 })).toThrow(/--sampling-steps applies to diffusion heads/);
    expect(() => checkGenerateOptions('sllm', { ...base, feedback: 'vector' })).toThrow('--feedback applies to concept heads (lcm-mse, lcm-diffusion, lcm-energy) only; this run is a sllm stage');
    expect(() => checkGenerateOptions('token-lm', { ...base, eta: 0 })).toThrow(/--eta applies to diffusion heads/);
    expect(() => checkGenerateOptions('lcm-diffusion', { ...base, feedback: 'reencode', guidance: 1, initialNoise: 1, samplingSteps: 3, eta: 1 })).not.toThrow();
    expect(() => checkGenerateOptions('lcm-energy', { ...base, feedback: 'reencode' })).not.toThrow();
    expect(() => checkGenerateOptions('token-lm', { ...base, temperature: 1 })).not.toThrow();
  });
});
