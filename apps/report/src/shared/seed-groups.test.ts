import { describe, expect, it } from 'vitest';
import { configDiff } from './config-diff.js';
import { flatten } from './flatten.js';
import { aggregateCurves, groupBySeed, seedGroupsOf } from './seed-groups.js';
import type { RunRow } from './types.js';

describe('groupBySeed', () => {
  it('groups runs whose configs differ only in seed keys', () => {
    const groups = groupBySeed([
      { id: 'a', experiment: 'e', config: { lr: 1, seed: 1 } },
      { id: 'b', experiment: 'e', config: { lr: 1, seed: 2 } },
      { id: 'c', experiment: 'e', config: { lr: 2, seed: 1 } },
      { id: 'd', experiment: 'f', config: { lr: 1, 'train.seed': 3 } },
    ]);
    expect(groups).toEqual([['a', 'b'], ['c'], ['d']]);
  });

  it("keeps a pipeline's stage runs apart: they share the pipeline config, their recorded stage differs", () => {
    const stageRun = (id: string, stage: string, seed: number): RunRow => ({ id, experiment: 'lcm', runId: id, ok: true, config: { seed, 'stages.svae.kind': 'svae' }, info: { stage, kind: stage === 'svae' ? 'svae' : 'lcm-diffusion' } });
    const rows = [stageRun('svae@0', 'svae', 0), stageRun('two-tower@0', 'two-tower', 0), stageRun('svae@1', 'svae', 1), stageRun('two-tower@1', 'two-tower', 1)];
    expect(seedGroupsOf(rows).map((g) => g.map((r) => r.id))).toEqual([
      ['svae@0', 'svae@1'],
      ['two-tower@0', 'two-tower@1'],
    ]);
    // Grouped on their config alone (as the paper view's seed table once was), every stage of the experiment was one "seed group".
    expect(groupBySeed(rows.map((r) => ({ id: r.id, experiment: r.experiment, config: r.config! })))).toHaveLength(1);
  });
});

describe('aggregateCurves', () => {
  it('computes mean with min/max or std bands on shared steps', () => {
    const curves = [
      { x: [0, 10, 20], y: [1, 2, 3] },
      { x: [0, 10], y: [3, 4] },
    ];
    expect(aggregateCurves(curves, 'minmax')).toEqual({ x: [0, 10, 20], mean: [2, 3, 3], lo: [1, 2, 3], hi: [3, 4, 3], n: [2, 2, 1] });
    const std = aggregateCurves(curves, 'std');
    expect(std.lo).toEqual([1, 2, 3]);
    expect(std.hi).toEqual([3, 4, 3]);
  });
});

describe('configDiff', () => {
  it('lists differing keys only by default, missing keys count as different', () => {
    const a = flatten({ model: { layers: 2, kind: 'sllm' }, lr: 1, tags: ['x'] });
    const b = flatten({ model: { layers: 4, kind: 'sllm' }, lr: 1 });
    expect(configDiff([a, b], true)).toEqual([
      { key: 'model.layers', values: [2, 4], differs: true },
      { key: 'tags', values: ['["x"]', undefined], differs: true },
    ]);
    expect(configDiff([a, b], false).map((r) => r.key)).toEqual(['lr', 'model.kind', 'model.layers', 'tags']);
  });
});
