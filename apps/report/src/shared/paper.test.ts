import { describe, expect, test } from 'vitest';
import { contextCurves, formatSeedStats, SVAE_COLUMNS, seedStats, seedTable } from './paper.js';
import type { RunRow } from './types.js';

const run = (id: string, ev: Record<string, number | string | null>): RunRow => ({ id, experiment: 'x', runId: id, ok: true, eval: ev }) as RunRow;

describe('seed statistics', () => {
  test('mean, population std, min, max and n of the values present (hand-computed)', () => {
    // 40, 42, 44: mean 42, std sqrt((4 + 0 + 4) / 3).
    expect(seedStats([40, undefined, 42, 44])).toEqual({ mean: 42, std: Math.sqrt(8 / 3), min: 40, max: 44, n: 3 });
    expect(seedStats([undefined])).toBeUndefined();
    expect(formatSeedStats(seedStats([40, 42, 44]))).toMatch(/^42(\.0+)? ± 1\.63\d* \(n=3\)$/);
  });

  test('the seed table: one row per group, each column mean ± std (n)', () => {
    const t = seedTable([[run('a-s1', { ppl: 40 }), run('a-s2', { ppl: 44 })], [run('b', { ppl: 50, params: 10 })]], SVAE_COLUMNS.slice(0, 2));
    expect(t.header).toEqual(['Runs', 'n', 'Params', 'PPL']);
    expect(t.rows[0]!.slice(0, 2)).toEqual(['a-s1, a-s2', '2']);
    expect(t.rows[0]![3]).toMatch(/^42(\.0+)? ± 2(\.0+)? \(n=2\)$/);
    expect(t.rows[0]![2]).toBe('');
  });
});

describe('contextCurves', () => {
  test('buckets in context order, one curve per run with PPL by context, null where a bucket is empty', () => {
    const r1 = run('lm', { 'ppl_by_context.64-128.ppl': 30, 'ppl_by_context.0-32.ppl': 50, 'ppl_by_context.256+.ppl': null, 'ppl_by_context.32-64.tokens': 5 });
    const r2 = run('sllm', { 'ppl_by_context.0-32.ppl': 60, 'ppl_by_context.32-64.ppl': 45 });
    const none = run('svae', { recon_token_acc: 0.5 });
    const c = contextCurves([r1, r2, none]);
    expect(c.buckets).toEqual(['0-32', '32-64', '64-128', '256+']);
    expect(c.starts).toEqual([0, 32, 64, 256]);
    expect(c.curves).toEqual([
      { id: 'lm', y: [50, null, 30, null] },
      { id: 'sllm', y: [60, 45, null, null] },
    ]);
  });
});
