import { describe, expect, test } from 'vitest';
import { columnsWithValues, contextCurves, formatSeedStats, horizonCurves, LCM_COLUMNS, lcmCell, lcmParts, lcmTable, PAIRED_SEED_COLUMNS, paperChange, paperTable, paperTableOf, shortRunLabels, SVAE_COLUMNS, seedStats, seedTable } from './paper.js';
import type { RunRow } from './types.js';

const run = (id: string, ev: Record<string, number | string | null>): RunRow => ({ id, experiment: 'x', runId: id, ok: true, eval: ev }) as RunRow;

describe('seed statistics', () => {
  test('mean and sample standard deviation of the values present, as exp results computes them (hand-computed)', () => {
    // 40, 42, 44: mean 42, sample sd sqrt((4 + 0 + 4) / 2) = 2 (the population's, 1.63, understated the spread over seeds).
    const s = seedStats([40, undefined, 42, 44]);
    expect(s).toMatchObject({ mean: 42, sd: 2, n: 3 });
    expect(seedStats([undefined])).toBeUndefined();
    expect(formatSeedStats(s)).toMatch(/^42(\.0+)? ± 2(\.0+)? \(n=3\)$/);
    // One seed has no spread to show.
    expect(formatSeedStats(seedStats([40]))).toMatch(/^40(\.0+)? \(n=1\)$/);
  });

  test('the seed table: one row per group, each column mean ± std (n)', () => {
    const t = seedTable([[run('a-s1', { ppl: 40 }), run('a-s2', { ppl: 44 })], [run('b', { ppl: 50, params: 10 })]], SVAE_COLUMNS.slice(0, 2));
    expect(t.header).toEqual(['Runs', 'n', 'Params', 'PPL']);
    expect(t.rows[0]!.slice(0, 2)).toEqual(['a-s1, a-s2', '2']);
    expect(t.rows[0]![3]).toMatch(/^42(\.0+)? ± 2\.828\d* \(n=2\)$/);
    expect(t.rows[0]![2]).toBe('');
  });

  test("the seed table names a group by its runs' short labels: pnpm exp's time stamps and the shared experiment left out", () => {
    const stamped = (runId: string): RunRow => ({ id: `lcm-vae/${runId}`, experiment: 'lcm-vae', runId, ok: true, eval: { l2: 7 } }) as RunRow;
    const t = seedTable([[stamped('two-tower@seed=0-20261207-172632-930b'), stamped('two-tower@seed=1-20261207-173839-c1ad')]], SVAE_COLUMNS.slice(0, 1));
    expect(t.rows[0]!.slice(0, 2)).toEqual(['two-tower@seed=0, two-tower@seed=1', '2']);
  });

  test('the seed table pools each run\'s paired ratio to its own eval\'s baseline (mean of ratios, not ratio of means)', () => {
    // Seed 1 scored 40 against its own baseline's 40 (ratio 1), seed 2 45 against 60 (0.75): the mean of the ratios is 0.875.
    const g = [
      run('s-s1', { ppl: 40, ppl_ratio: 1, ppl_ratio_matched: 0.98, tokens_per_s_ratio: 2 }),
      run('s-s2', { ppl: 45, ppl_ratio: 0.75, ppl_ratio_matched: 1.1, tokens_per_s_ratio: 2.4 }),
    ];
    const t = seedTable([g], PAIRED_SEED_COLUMNS);
    expect(t.header).toEqual(['Runs', 'n', 'PPL / eval baseline (paired)', 'PPL / compute-matched token LM (paired)', 'Tokens/s / eval baseline (per pass)']);
    // Sample sds: 0.25 / sqrt 2, 0.12 / sqrt 2, 0.4 / sqrt 2.
    expect(t.rows[0]![2]).toMatch(/^0\.875\d* ± 0\.1767\d* \(n=2\)$/);
    expect(t.rows[0]![3]).toMatch(/^1\.04\d* ± 0\.0848\d* \(n=2\)$/);
    expect(t.rows[0]![4]).toMatch(/^2\.2\d* ± 0\.2828\d* \(n=2\)$/);
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

describe('horizonCurves', () => {
  test('horizons in numeric order, one curve per run with two or more, null where a run has none', () => {
    const k = (h: number) => `energy_score_by_horizon.${h}.diff_train_dist`;
    const a = run('two-tower', { [k(10)]: 0.5, [k(2)]: 0.2, [k(1)]: 0.1, 'energy_score_by_horizon.2.energy_score': 3 });
    const b = run('energy', { [k(1)]: -0.1, [k(2)]: null, [k(3)]: 0.05 });
    const single = run('mse', { [k(1)]: 0.9 });
    const none = run('lm', { ppl: 40 });
    const c = horizonCurves([a, b, single, none]);
    expect(c.horizons).toEqual([1, 2, 3, 10]);
    expect(c.curves).toEqual([
      { run: a, y: [0.1, 0.2, null, 0.5] },
      { run: b, y: [-0.1, null, 0.05, null] },
    ]);
    expect(horizonCurves([single, none]).curves).toEqual([]);
  });
});

const row = (id: string, kind?: string, evalValues: RunRow['eval'] = {}): RunRow => {
  const [experiment, runId] = id.split('/') as [string, string];
  return { id, experiment, runId, ok: true, ...(kind ? { info: { kind } } : {}), eval: evalValues };
};

describe('paper table membership and labels', () => {
  test('each run goes to the table of its kind (SentenceVAE runs to neither), by eval keys when it has no kind', () => {
    expect(['token-lm', 'sllm', 'svae', 'lcm-mse', 'lcm-diffusion'].map((k) => paperTableOf(row(`q/${k}`, k, { params: 1 })))).toEqual(['lm', 'lm', undefined, 'lcm', 'lcm']);
    expect(paperTableOf(row('old/a', undefined, { ppl: 40 }))).toBe('lm');
    expect(paperTableOf(row('old/b', undefined, { l2: 0.5 }))).toBe('lcm');
    expect(paperTableOf(row('old/c', undefined, { params: 5 }))).toBeUndefined();
  });

  test('short labels drop the time stamp, and the experiment when all share one; ambiguous ones stay full ids', () => {
    const lm = row('quickstart/lm-20261204-181500-a1b2');
    const sllm = row('quickstart/sllm-20261204-182011-0f3c');
    expect([...shortRunLabels([lm, sllm]).values()]).toEqual(['lm', 'sllm']);
    const other = row('sweep/lm-20261205-090000-ffff');
    expect([...shortRunLabels([lm, sllm, other]).values()]).toEqual(['quickstart/lm', 'quickstart/sllm', 'sweep/lm']);
    const again = row('quickstart/lm-20261205-090000-ffff');
    expect([...shortRunLabels([lm, again]).values()]).toEqual([lm.id, again.id]);
  });

  test("runs that share a short label are told apart by the config keys that differ among them, their own stage's first", () => {
    const head = (id: string, noise: number, scale: number): RunRow => ({
      ...row(`lcm/${id}`, 'lcm-diffusion'),
      info: { kind: 'lcm-diffusion', stage: 'two-tower' },
      config: { 'stages.two-tower.model.sampling.initialNoiseScale': noise, 'stages.two-tower.model.guidance.scale': scale, 'stages.one-tower.model.guidance.scale': scale, 'train.lr': 0.001 },
    });
    const [a, b, c] = [head('two-tower-20261208-000239-a478', 0.6, 3), head('two-tower-20261208-000449-e13f', 1, 3), head('two-tower-20261208-000732-4990', 1, 1)];
    const mse = { ...row('lcm/mse-20261207-235613-dfc6', 'lcm-mse'), config: { 'train.lr': 0.001 } };
    expect([...shortRunLabels([a, b, c, mse]).values()]).toEqual([
      'two-tower (model.guidance.scale=3, model.sampling.initialNoiseScale=0.6)',
      'two-tower (model.guidance.scale=3, model.sampling.initialNoiseScale=1)',
      'two-tower (model.guidance.scale=1, model.sampling.initialNoiseScale=1)',
      'mse',
    ]);
    // No stage recorded: every differing key, in full; the same config twice: full ids.
    const bare = (id: string, lr: number): RunRow => ({ ...row(`s/${id}`), config: { 'train.lr': lr } });
    const [x, y] = [bare('lm-20261205-090000-ffff', 0.001), bare('lm-20261205-100000-eeee', 0.003)];
    expect([...shortRunLabels([x, y]).values()]).toEqual(['lm (train.lr=0.001)', 'lm (train.lr=0.003)']);
    const z = bare('lm-20261205-110000-dddd', 0.003);
    expect([...shortRunLabels([x, y, z]).values()]).toEqual(['lm (train.lr=0.001)', y.id, z.id]);
  });
});

describe('paper table figures with their intervals', () => {
  test('a figure shows its stored 95% interval; a change within overlapping intervals says so (hand-made intervals)', () => {
    const [ppl, kv] = [SVAE_COLUMNS[1]!, SVAE_COLUMNS[4]!];
    const base = row('q/lm', 'token-lm', { ppl: 40, ppl_ci_low: 38, ppl_ci_high: 42.5, kv_bytes_per_token: 2048 });
    const near = row('q/near', 'sllm', { ppl: 43, ppl_ci_low: 42.5, ppl_ci_high: 44, kv_bytes_per_token: 512 });
    const far = row('q/far', 'sllm', { ppl: 50, ppl_ci_low: 45, ppl_ci_high: 55 });
    const bare = row('q/bare', 'sllm', { ppl: 41 });
    // Intervals that touch overlap; apart, they do not; without an interval on either side, nothing is said.
    expect(paperChange(near, base, ppl)).toEqual({ percent: 7.5, overlap: 'intervals' });
    expect(paperChange(far, base, ppl)).toEqual({ percent: 25 });
    expect(paperChange(bare, base, ppl)).toEqual({ percent: 2.5 });
    const t = paperTable(base, [near, far, bare], [ppl, kv], true);
    expect(t.header).toEqual(['Run', 'PPL', 'Δ PPL', 'KV KB/token', 'Δ KV KB/token']);
    expect(t.rows).toEqual([
      ['lm (baseline)', '40 [38, 42.5]', '', '2', ''],
      ['near', '43 [42.5, 44]', '+7.5% (intervals overlap)', '0.5', '-75.0%'],
      ['far', '50 [45, 55]', '+25.0%', '', ''],
      ['bare', '41', '+2.5%', '', ''],
    ]);
  });
});

describe('paper table PPL change with its paired interval', () => {
  test('where the eval paired the run with this very baseline run, the change carries the paired interval, which decides whether it is resolved', () => {
    const ppl = SVAE_COLUMNS[1]!;
    const staged = (id: string, stage: string, ev: RunRow['eval']): RunRow => ({ ...row(id, stage === 'lm' ? 'token-lm' : 'sllm', ev), info: { kind: stage === 'lm' ? 'token-lm' : 'sllm', stage } });
    const base = staged('q/lm-1', 'lm', { ppl: 40, ppl_ci_low: 36, ppl_ci_high: 44, ppl_fingerprint: 'f1' });
    // Separate intervals overlap; paired, the ratio 1.1 [1.05, 1.15] is resolved.
    const sllm = staged('q/sllm-1', 'sllm', { ppl: 44, ppl_ci_low: 40, ppl_ci_high: 48, ppl_fingerprint: 'f1', ppl_ratio: 1.1, ppl_ratio_ci_low: 1.05, ppl_ratio_ci_high: 1.15, ppl_ratio_baseline: 'lm' });
    const flat = staged('q/flat-1', 'sllm', { ppl: 41, ppl_fingerprint: 'f1', ppl_ratio: 1.025, ppl_ratio_ci_low: 0.98, ppl_ratio_ci_high: 1.07, ppl_ratio_baseline: 'lm' });
    expect(paperChange(sllm, base, ppl)).toEqual({ percent: 10, paired: { low: expect.closeTo(5, 9), high: expect.closeTo(15, 9) } });
    expect(paperChange(flat, base, ppl)).toEqual({ percent: 2.5, paired: { low: expect.closeTo(-2, 9), high: expect.closeTo(7, 9) }, overlap: 'paired' });
    expect(paperTable(base, [sllm, flat], [ppl], true).rows).toEqual([
      ['lm-1 (baseline)', '40 [36, 44]', ''],
      ['sllm-1', '44 [40, 48]', '+10.0% [+5.0%, +15.0%] paired'],
      ['flat-1', '41', '+2.5% [-2.0%, +7.0%] paired'],
    ]);
    // Another token LM run (another seed, other scored ids or another PPL) as the baseline: the pairing does not apply.
    const otherSeed = staged('q/lm-2', 'lm', { ppl: 39, ppl_ci_low: 35, ppl_ci_high: 43, ppl_fingerprint: 'f1' });
    expect(paperChange(sllm, otherSeed, ppl)).toEqual({ percent: expect.closeTo(12.82, 2), overlap: 'intervals' });
    const otherIds = staged('q/lm-3', 'lm', { ppl: 40, ppl_ci_low: 36, ppl_ci_high: 44, ppl_fingerprint: 'f2' });
    expect(paperChange(sllm, otherIds, ppl)).toEqual({ percent: 10, overlap: 'intervals' });
    const otherStage = staged('q/big-1', 'big', { ppl: 40, ppl_ci_low: 36, ppl_ci_high: 44, ppl_fingerprint: 'f1' });
    expect(paperChange(sllm, otherStage, ppl)).toEqual({ percent: 10, overlap: 'intervals' });
  });
});

describe('paper table speed with the range of its timed passes', () => {
  test('tok/s shows the slowest and fastest pass; a change within overlapping ranges says so', () => {
    const speed = SVAE_COLUMNS[3]!;
    const base = row('q/lm', 'token-lm', { tokens_per_s: 1313, tokens_per_s_min: 1244, tokens_per_s_max: 1437 });
    const close = row('q/close', 'sllm', { tokens_per_s: 1558, tokens_per_s_min: 1346, tokens_per_s_max: 1832 });
    const apart = row('q/apart', 'sllm', { tokens_per_s: 1715, tokens_per_s_min: 1670, tokens_per_s_max: 1793 });
    expect(paperChange(close, base, speed)).toEqual({ percent: expect.closeTo(18.66, 2), overlap: 'ranges' });
    expect(paperChange(apart, base, speed)).toEqual({ percent: expect.closeTo(30.62, 2) });
    expect(paperTable(base, [close, apart], [speed], true).rows).toEqual([
      ['lm (baseline)', '1313 (1244-1437)', ''],
      ['close', '1558 (1346-1832)', '+18.7% (ranges overlap)'],
      ['apart', '1715 (1670-1793)', '+30.6%'],
    ]);
  });
});

describe('the LCM tables', () => {
  const column = (key: string) => LCM_COLUMNS.find((c) => c.key === key)!;
  const head = run('draws', {
    energy_score: 3.6,
    energy_score_posterior: 5.1,
    energy_score_posterior_diff: -0.077,
    energy_score_posterior_diff_ci_low: -0.095,
    energy_score_posterior_diff_ci_high: -0.057,
    energy_score_posterior_diff_baseline: 'one-tower',
    contrastive_acc: 0.51,
    contrastive_acc_diff: 0.02,
    contrastive_acc_diff_ci_low: 0.01,
    contrastive_acc_diff_ci_high: 0.03,
    contrastive_acc_diff_baseline: 'one-tower',
    l2_diff: 0,
    l2_diff_ci_low: 0,
    l2_diff_ci_high: 0,
    energy_score_diff_train_dist: 0.1,
    energy_score_diff_train_dist_ci_low: -0.05,
    energy_score_diff_train_dist_ci_high: 0.2,
    spread_ratio: 0.71,
    spread_ratio_ci_low: 0.64,
    spread_ratio_ci_high: 0.78,
  });

  test("a paired difference names its baseline head and takes its side of 0 from the interval, by the figure's better side", () => {
    // Lower is better for the energy score: an interval wholly below 0 is better.
    expect(lcmCell(head, column('energy_score_posterior_diff'))).toEqual({ text: '-0.077 [-0.095, -0.057] vs one-tower', verdict: 'better' });
    // Higher is better for contrastive accuracy: wholly above 0 is better too.
    expect(lcmCell(head, column('contrastive_acc_diff'))).toEqual({ text: '0.02 [0.01, 0.03] vs one-tower', verdict: 'better' });
    // The difference to sampling the training embeddings names no head; its interval includes 0.
    expect(lcmCell(head, column('energy_score_diff_train_dist'))).toEqual({ text: '0.1 [-0.05, 0.2]', verdict: 'unresolved' });
    // Both bounds at 0 (every draw scored the same) say nothing either way: no verdict.
    expect(lcmCell(head, column('l2_diff'))).toEqual({ text: '0 [0, 0]' });
    // A figure is no difference: never coloured.
    expect(lcmCell(head, column('energy_score'))).toEqual({ text: '3.6' });
    // Spread / skill has no better side: its interval is shown, never a verdict.
    expect(lcmCell(head, column('spread_ratio'))).toEqual({ text: '0.71 [0.64, 0.78]' });
    expect(lcmCell(head, column('energy_score_diff'))).toEqual({ text: '' });
  });

  test('each table keeps the columns of its part that some run has', () => {
    const means = run('means', { energy_score: 3.5, l2: 7.1 });
    expect(columnsWithValues([means], LCM_COLUMNS).map((c) => c.key)).toEqual(['energy_score', 'l2']);
    expect(lcmTable([means, head], 'distribution')).toEqual({
      header: ['Run', 'Energy score', 'ES − train-dist (paired)', 'Spread / skill', 'ES posterior', 'ES post. − baseline head (paired)'],
      rows: [
        ['means', '3.5', '', '', '', ''],
        ['draws', '3.6', '0.1 [-0.05, 0.2]', '0.71 [0.64, 0.78]', '5.1', '-0.077 [-0.095, -0.057] vs one-tower'],
      ],
    });
    expect(lcmParts([means, head])).toEqual(['distribution', 'point']);
    expect(lcmParts([run('old', { l2: 7 })])).toEqual(['point']);
    expect(lcmParts([run('ahead', { energy_score: 3, energy_score_ahead: 3.4 })])).toEqual(['distribution', 'ahead']);
    expect(lcmTable([means, head], 'point').header).toEqual(['Run', 'L2', 'L2 − baseline head (paired)', 'Contrastive acc.', 'Contr. acc. − baseline head (paired)']);
  });
});
