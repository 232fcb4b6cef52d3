import { describe, expect, test } from 'vitest';
import { baseLcmConfigSchema, energyLcmConfigSchema, oneTowerConfigSchema, twoTowerConfigSchema } from './config.js';
import { describeSampler } from './sampler-description.js';

describe('describeSampler', () => {
  test("each head's way of drawing its vector, with the diffusion sampler's settings as configured", () => {
    expect(describeSampler(baseLcmConfigSchema.parse({}))).toBe('a point (no sampler)');
    expect(describeSampler(energyLcmConfigSchema.parse({ generator: { noiseDim: 32 } }))).toBe('one generator pass from 32-d uniform noise');
    expect(describeSampler(twoTowerConfigSchema.parse({}))).toBe('DDIM 40 steps (trailing), eta 0, from 0.6 x unit noise, guidance 3 (rescale 0.7)');
    const unit = oneTowerConfigSchema.parse({ sampling: { steps: 20, initialNoiseScale: 1, eta: 0.5, spacing: 'leading' }, guidance: { scale: 1 } });
    expect(describeSampler(unit)).toBe('DDIM 20 steps (leading), eta 0.5, from 1 x unit noise, no guidance (scale 1)');
    expect(describeSampler(twoTowerConfigSchema.parse({ guidance: { scale: 2, rescale: 0 } }))).toBe('DDIM 40 steps (trailing), eta 0, from 0.6 x unit noise, guidance 2');
  });
});
