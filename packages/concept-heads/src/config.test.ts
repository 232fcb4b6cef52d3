import { describe, expect, it } from 'vitest';
import { parseConfig } from '@sentencelab/tensor';
import { baseLcmConfigSchema, conceptHeadConfigSchema, twoTowerConfigSchema } from './config.js';

describe('config schemas', () => {
  it('fill the LCM defaults', () => {
    const c = twoTowerConfigSchema.parse({});
    expect(c.prediction).toBe('x0');
    expect(c.schedule).toMatchObject({ kind: 'cosine', steps: 100, zeroTerminalSnr: true });
    expect(c.sampling).toEqual({ steps: 40, eta: 0, spacing: 'trailing', initialNoiseScale: 0.6 });
    expect(c.guidance).toEqual({ conditionDropout: 0.15, scale: 3, rescale: 0.7 });
    expect(baseLcmConfigSchema.parse({})).toMatchObject({ norm: 'rms', activation: 'swiglu', positional: 'rope', normalizer: 'robust', stopThreshold: 0.9 });
  });

  it('reject unknown keys and inconsistent diffusion settings, naming the key path', () => {
    expect(() => parseConfig(conceptHeadConfigSchema, { kind: 'two-tower', sampling: { stepz: 3 } }, 'lcm')).toThrow(/sampling: Unrecognized key: "stepz"/);
    expect(() => parseConfig(twoTowerConfigSchema, { prediction: 'epsilon' }, 'two-tower')).toThrow(/prediction: epsilon prediction has no x0/);
    expect(() => parseConfig(twoTowerConfigSchema, { schedule: { steps: 20 } }, 'two-tower')).toThrow(/sampling.steps: sampling.steps \(40\) exceeds schedule.steps \(20\)/);
    expect(() => parseConfig(conceptHeadConfigSchema, { kind: 'quant-lcm' }, 'lcm')).toThrow(/invalid lcm config: kind/);
  });
});
