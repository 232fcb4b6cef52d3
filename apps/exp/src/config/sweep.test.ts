import { describe, expect, test } from 'vitest';
import { ConfigError } from './errors.js';
import { expandSweeps, sweepValues } from './sweep.js';

describe('sweeps', () => {
  test('a.b=1,2,3 gives one point per value, the cross product first override slowest', () => {
    const points = expandSweeps(['stages.lm.train.lr=1e-3,3e-3', 'seed=0', 'stages.lm.model.layers=1,2']);
    expect(points.map((p) => p.overrides)).toEqual([
      ['stages.lm.train.lr=1e-3', 'seed=0', 'stages.lm.model.layers=1'],
      ['stages.lm.train.lr=1e-3', 'seed=0', 'stages.lm.model.layers=2'],
      ['stages.lm.train.lr=3e-3', 'seed=0', 'stages.lm.model.layers=1'],
      ['stages.lm.train.lr=3e-3', 'seed=0', 'stages.lm.model.layers=2'],
    ]);
    expect(points.map((p) => p.label)).toEqual(['lr=1e-3,layers=1', 'lr=1e-3,layers=2', 'lr=3e-3,layers=1', 'lr=3e-3,layers=2']);
  });

  test('labels use the shortest suffix that tells swept keys apart', () => {
    const points = expandSweeps(['stages.lm.train.lr=1,2', 'stages.sllm.train.lr=3,4']);
    expect(points[0]!.label).toBe('lm.train.lr=1,sllm.train.lr=3');
  });

  test('no sweep: one point with an empty label', () => {
    expect(expandSweeps(['seed=3'])).toEqual([{ overrides: ['seed=3'], label: '' }]);
    expect(expandSweeps([])).toEqual([{ overrides: [], label: '' }]);
  });

  test('lists, maps and quoted strings are one value, not a sweep', () => {
    expect(sweepValues('a=[1, 2]').values).toEqual(['[1, 2]']);
    expect(sweepValues('a={x: 1, y: 2}').values).toEqual(['{x: 1, y: 2}']);
    expect(sweepValues('a="x,y"').values).toEqual(['"x,y"']);
  });

  test('empty and repeated sweep values, and a key given twice, are errors', () => {
    expect(() => expandSweeps(['a=1,,2'])).toThrow(/empty value/);
    expect(() => expandSweeps(['a=1,1'])).toThrow(/repeated value/);
    expect(() => expandSweeps(['a=1', 'a=2'])).toThrow(ConfigError);
  });
});
