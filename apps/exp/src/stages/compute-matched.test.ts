import { describe, expect, it } from 'vitest';
import { COMPUTE_KEY, FLOPS_OF_KEY, type StageCompute } from '../pipeline/compute.js';
import { computeMatches, MATCHED_FLOPS_TOLERANCE } from './compute-matched.js';

/** An artifact's stage and meta: its own FLOPs, an upstream stage's, and the budget it trained to, if any. */
function model(stage: string, flops: number | undefined, o: { upstream?: number; budget?: { stage: string; flops: number }; complete?: boolean } = {}) {
  const compute: StageCompute = {
    cpu_s: 1,
    upstream: o.upstream === undefined ? {} : { h: { stage: 'svae', flops: o.upstream, cpu_s: 1 } },
    complete: o.complete ?? true,
    ...(flops === undefined ? {} : { flops }),
  };
  return { stage, meta: { [COMPUTE_KEY]: compute, ...(o.budget ? { [FLOPS_OF_KEY]: o.budget } : {}) } };
}

describe('computeMatches', () => {
  it('matches the budget\'s stage by name and a model within 1% of the budget (its upstream counted) by FLOPs', () => {
    const m = computeMatches([
      model('lm', 50),
      model('lm-compute', 99.8, { budget: { stage: 'sllm', flops: 100 } }),
      model('sllm', 60, { upstream: 40 }),
      model('sllm-noisy', 60.5, { upstream: 40 }), // 100.5: x1.005
      model('sllm-big', 62, { upstream: 40 }), // 102: outside 1%
    ]);
    expect(m.get('sllm')).toEqual({ lm: 'lm-compute', budgetOf: 'sllm', ratio: 1 });
    expect(m.get('sllm-noisy')!.lm).toBe('lm-compute');
    expect(m.get('sllm-noisy')!.budgetOf).toBe('sllm');
    expect(m.get('sllm-noisy')!.ratio).toBeCloseTo(1.005, 12);
    expect(m.has('sllm-big')).toBe(false);
    expect(m.has('lm')).toBe(false); // 50: half the budget
    expect(m.has('lm-compute')).toBe(false); // a budgeted token LM is the baseline, not a model to match
    expect(MATCHED_FLOPS_TOLERANCE).toBe(0.01);
  });

  it('takes the nearest of several budgets, keeps a match by name over one by FLOPs, and skips uncounted or incomplete costs', () => {
    const m = computeMatches([
      model('lm-a', 100, { budget: { stage: 'a', flops: 100 } }),
      model('lm-b', 100.6, { budget: { stage: 'b', flops: 100.6 } }),
      model('a', 100.5), // by name to lm-a, though nearer lm-b's budget
      model('c', 100.5), // nearer b's budget
      model('uncounted', undefined),
      model('incomplete', 100, { complete: false }),
    ]);
    expect(m.get('a')).toEqual({ lm: 'lm-a', budgetOf: 'a', ratio: 1 });
    expect(m.get('c')!.lm).toBe('lm-b');
    expect(m.has('uncounted')).toBe(false);
    expect(m.has('incomplete')).toBe(false);
  });

  it('does not match by name a budget whose stage is not among the models', () => {
    const m = computeMatches([model('lm-compute', 100, { budget: { stage: 'gone', flops: 100 } }), model('x', 100)]);
    expect(m.get('x')).toEqual({ lm: 'lm-compute', budgetOf: 'gone', ratio: 1 });
    expect(m.has('gone')).toBe(false);
  });
});
