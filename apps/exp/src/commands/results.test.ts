import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRun, listRuns, openRunForResume, readMeta, type EvalValue, type RunInfoOk } from '@sentencelab/runs';
import { formatFlops, initBackend } from '@sentencelab/tensor';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { STAGE_FILE } from '../pipeline/execute.js';
import { meanSpread } from '../results/points.js';
import { tinySvaeStage, writeTinyPipelineFile } from '../testing/tiny-pipeline.js';
import { formatCell } from '../table.js';
import { resultsAction } from './results.js';
import { runCommandAction } from './run.js';

const machine = { cpu: 'Test CPU', cores: 2, memoryGb: 8, os: 'linux', node: 'v20' };
const git = { sha: '0123456789abcdef0123', dirty: false };

/** A finished stage run, written with the runs package's own writer: `metrics` as [step, {name: value}]. */
function stageRun(
  root: string,
  o: { experiment?: string; stage: string; kind: string; seed: number; model?: Record<string, unknown>; eval: Record<string, EvalValue>; metrics?: [number, Record<string, number>][]; resumed?: boolean; runId?: string; sha?: string; simd?: string },
): void {
  const experiment = o.experiment ?? 'exp1';
  const config = { name: experiment, seed: o.seed, runsDir: root, stages: { [o.stage]: { kind: o.kind, model: o.model ?? {} } } };
  let run = createRun({ root, experiment, runId: o.runId ?? `${o.stage}@${JSON.stringify(o.model ?? {}).replace(/\W/g, '')}s${o.seed}`, config, seed: o.seed, backend: 'native', git: o.sha ? { sha: o.sha, dirty: false } : git, machine, ...(o.simd ? { backendInfo: { native: { simd: o.simd, threads: 2, blas: 'builtin' } } } : {}) });
  writeFileSync(join(run.dir, STAGE_FILE), JSON.stringify({ stage: o.stage, kind: o.kind, hash: 'h', label: '' }));
  for (const [step, values] of o.metrics ?? []) run.logMetrics(step, values);
  if (o.resumed) {
    run.setStatus('interrupted');
    run = openRunForResume(run.dir, { onWarning: () => {} });
  }
  run.writeSummary(o.eval);
  run.setStatus('done');
}

/** Decoded PNG and the share of its pixels in rows [y0, y1) that are not the white background. */
function inked(png: PNG, y0: number, y1: number): number {
  let ink = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < png.width; x++) {
      const i = (y * png.width + x) * 4;
      if (png.data[i]! < 200 || png.data[i + 1]! < 200 || png.data[i + 2]! < 200) ink++;
    }
  }
  return ink / ((y1 - y0) * png.width);
}

const readPng = (file: string) => PNG.sync.read(readFileSync(file));

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('exp results', () => {
  test('meanSpread: the mean, and the sample standard deviation over n >= 2 runs', () => {
    expect(meanSpread([2])).toBe('2');
    expect(meanSpread([1, 2, 3])).toBe('2 ± 1 (n=3)');
    expect(meanSpread([])).toBe('');
  });

  test('one table per stage, a column per sweep point, seeds pooled, 95% intervals; runs, git, machine, configs; a chart per figure', async () => {
    const root = mkdtempSync(join(tmpdir(), 'exp-results-'));
    const ctx = (a: number, b: number) => ({ '0-32': { ppl: a, tokens: 100, sentences: 5 }, '32-64': { ppl: b, tokens: 80, sentences: 4 } });
    stageRun(root, { stage: 'lm', kind: 'token-lm', seed: 0, simd: 'avx512', eval: { ppl: 100, ppl_ci_low: 90, ppl_ci_high: 111, tokens_per_s: 400, train_tokens_per_s: 900, kv_bytes_per_token: 2048, ppl_by_context: ctx(120, 90) } });
    stageRun(root, { stage: 'lm', kind: 'token-lm', seed: 1, metrics: [[1, { 'train/tokens_per_s': 1100 }], [2, { 'train/tokens_per_s': 900 }], [3, { 'train/tokens_per_s': 1000 }]], eval: { ppl: 110, ppl_ci_low: 99, ppl_ci_high: 121, tokens_per_s: 420, train_tokens_per_s: 950, kv_bytes_per_token: 2048, ppl_by_context: ctx(130, 100) } });
    stageRun(root, { stage: 'sllm', kind: 'sllm', seed: 0, resumed: true, simd: 'avx2', eval: { ppl: 80, ppl_ci_low: 70, ppl_ci_high: 91, tokens_per_s: 150, kv_bytes_per_token: 300, kv_bytes_per_token_measured: 320, ppl_by_context: ctx(85, 75) } });
    // The same stage, config and seed run twice: the earlier run is left out, not pooled as another seed.
    stageRun(root, { stage: 'mse', kind: 'lcm-mse', seed: 0, runId: 'mse-first', eval: { l2: 5 } });
    stageRun(root, { stage: 'mse', kind: 'lcm-mse', seed: 0, eval: { l2: 0.8, l2_ci_low: 0.7, l2_ci_high: 0.9, l2_copy_prev: 1.1, l2_train_mean: 0.95, contrastive_acc: 0.61, contrastive_acc_copy_prev: 0.55, contrastive_acc_train_mean: 0.5 } });
    const out = join(root, 'docs', 'exp1.md');
    const r = await resultsAction('exp1', { runsDir: root, out });
    expect(r.markdown).toBe(out);
    const md = readFileSync(out, 'utf8');
    expect(md).toContain('- git: 0123456789ab\n');
    // Two runs recorded different native kernels (the others, written before they were, none): said, with what it means.
    expect(md).toContain('- backend: native (native kernels: avx512, not recorded, avx2: different native kernels (SIMD width, GEMM): their products sum in different orders');
    expect(md).toContain('- machine: Test CPU, 2 cores, 8 GB, linux, Node v20');
    expect(md).toContain('- seeds: 0, 1');
    expect(md).toMatch(/- load average \(1 min\): [\d.]+(-[\d.]+)? when the runs started, [\d.]+(-[\d.]+)? when they ended/);
    // Seed by seed: the PPL of each seed per model; the MSE head's L2 has one seed (the earlier run left out), so no table.
    expect(md).toContain('## Seed by seed');
    expect(md).toContain('| seed | lm | sllm |\n| --- | --- | --- |\n| 0 | 100 | 80 |\n| 1 | 110 | - |\n| mean ± sd | 105 ± 7.071 (n=2) | 80 |');
    expect(md).not.toContain('`l2`: concept head');
    expect(md).toContain('## lm (token-lm)');
    // Two seeds: mean ± sd, and the Student-t interval of the mean: 105 ± 12.706 * 7.071 / sqrt(2) = 105 ± 63.53.
    expect(md).toContain('| ppl | 105 ± 7.071 (n=2) |');
    expect(md).toContain('| ppl 95% interval | [41.5, 168.5] t over 2 seeds |');
    // One seed: the value and the bootstrap interval the eval stored beside it.
    expect(md).toContain('| ppl | 80 |');
    expect(md).toContain('| ppl 95% interval | [70, 91] bootstrap over documents |');
    expect(md).toContain('| ctx 0-32 | ctx 32-64 |');
    expect(md).toContain('| lm | 125 (100 tokens) | 95 (80 tokens) |');
    expect(md).toContain('- `ppl`: perplexity on the shared held-out tokens');
    expect(md).toContain('| l2_copy_prev | 1.100 |');
    expect(md).toContain('| l2 | 0.8000 |');
    expect(md).toContain('- left out: 1 earlier finished runs with the same stage and config as a later one (only the latest of each is reported): mse-first');
    expect(md.match(/<summary>resolved config<\/summary>/g)).toHaveLength(4);
    // Every run in the runs table with its speeds.
    expect(md).toMatch(/\| lm@s1 \| lm \| - \| 1 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| 950 \| 1000 \| 420 \| [\d.]+ → [\d.]+ \|/);
    // A resumed run's start-to-end time includes its pause: the runs table says so.
    expect(md).toMatch(/\| sllm@s0 \| sllm \| - \| 0 \| [\d.]+ \(resumed 1x: includes the pause\) \|/);
    const charts = ['ppl', 'tokens_per_s', 'train_tokens_per_s', 'kv_bytes_per_token', 'l2', 'contrastive_acc', 'ppl_by_context'];
    expect(r.charts.map((f) => f.slice(join(root, 'docs', 'exp1').length + 1))).toEqual(charts.map((c) => `${c}.png`));
    for (const c of charts) expect(md).toContain(`](exp1/${c}.png)`);
    for (const f of r.charts) {
      const png = readPng(f);
      expect(png.width).toBeGreaterThan(1100); // 560 px of plot, x2
      expect(png.height).toBeGreaterThan(600);
      // The title band holds text (dark glyphs on white), the plot holds marks, and most of the image is background.
      expect(inked(png, 0, 40), f).toBeGreaterThan(0.01);
      expect(inked(png, 100, png.height - 100), f).toBeGreaterThan(0.005);
      expect(inked(png, 0, png.height), f).toBeLessThan(0.5);
    }
    await expect(resultsAction('nope', { runsDir: root, out })).rejects.toThrow(/no finished run of experiment "nope" .* \(experiments there: exp1\)/);
  });

  test('the wall-time line says how much of the span from first start to last result had a stage running, when runs came in two invocations', async () => {
    const root = mkdtempSync(join(tmpdir(), 'exp-results-span-'));
    stageRun(root, { stage: 'lm', kind: 'token-lm', seed: 0, eval: { ppl: 100 } });
    stageRun(root, { stage: 'lm', kind: 'token-lm', seed: 1, eval: { ppl: 110 } });
    // Seed 0 ran 100 s, seed 1 two hours later for 120 s: the span is 2 h 2 min, 220 s of it busy.
    const times: [string, string][] = [['2026-12-07T00:00:00.000Z', '2026-12-07T00:01:40.000Z'], ['2026-12-07T02:00:00.000Z', '2026-12-07T02:02:00.000Z']];
    for (const r of (await listRuns(root)).filter((x): x is RunInfoOk => x.ok)) {
      const [start, end] = times[r.meta.seed]!;
      const meta = JSON.parse(readFileSync(join(r.dir, 'meta.json'), 'utf8'));
      writeFileSync(join(r.dir, 'meta.json'), JSON.stringify({ ...meta, startedAt: start, endedAt: end }));
      const summary = JSON.parse(readFileSync(join(r.dir, 'summary.json'), 'utf8'));
      writeFileSync(join(r.dir, 'summary.json'), JSON.stringify({ ...summary, updatedAt: end }));
    }
    const out = join(root, 'exp1.md');
    await resultsAction('exp1', { runsDir: root, out });
    expect(readFileSync(out, 'utf8')).toMatch(/; 7320 s from the first run's start to the last result written \(220 s of it with a stage running: the rest is start-up, tokenizer stages and the gaps between sweep points or invocations\)\n/);
  });

  test('a figure\'s range over the timed passes folds into a row under it; a paired comparison\'s row names its baseline', async () => {
    const root = mkdtempSync(join(tmpdir(), 'exp-results-range-'));
    const sllm = (seed: number, lo: number, hi: number) => ({
      ppl: 80 + seed, ppl_ratio: 0.8 + 0.01 * seed, ppl_ratio_ci_low: 0.78 + 0.01 * seed, ppl_ratio_ci_high: 0.83 + 0.01 * seed, ppl_ratio_baseline: 'lm',
      brier_1_diff: 0.02, brier_1_diff_ci_low: -0.01, brier_1_diff_ci_high: 0.05, brier_1_diff_baseline: 'lm',
      tokens_per_s: 1000 + seed, tokens_per_s_min: lo, tokens_per_s_max: hi,
      tokens_per_s_ratio: 2.3, tokens_per_s_ratio_min: 2.1, tokens_per_s_ratio_max: 2.6, tokens_per_s_ratio_above_1: 5 - seed, speed_repeats: 5, tokens_per_s_ratio_baseline: 'lm',
      context_tokens_min: 3, context_tokens_max: 65,
    });
    stageRun(root, { experiment: 'r', stage: 'sllm', kind: 'sllm', seed: 0, eval: sllm(0, 950, 1100) });
    stageRun(root, { experiment: 'r', stage: 'sllm', kind: 'sllm', seed: 1, eval: sllm(1, 900, 1050) });
    stageRun(root, { experiment: 'r', stage: 'one', kind: 'sllm', seed: 0, eval: sllm(0, 950, 1100), sha: 'fedcba9876543210fedc' });
    stageRun(root, { experiment: 'r', stage: 'mixed', kind: 'sllm', seed: 0, eval: { ppl: 80, ppl_ratio: 0.8, ppl_ratio_ci_low: 0.78, ppl_ratio_ci_high: 0.83, ppl_ratio_baseline: 'lm' } });
    stageRun(root, { experiment: 'r', stage: 'mixed', kind: 'sllm', seed: 1, eval: { ppl: 105, ppl_ratio: 1.05, ppl_ratio_ci_low: 1.02, ppl_ratio_ci_high: 1.08, ppl_ratio_baseline: 'lm' } });
    // A model with its compute-matched token LM: its own baseline, a column of its own.
    for (const seed of [0, 1]) {
      const m = 0.9 + 0.2 * seed;
      stageRun(root, { experiment: 'r', stage: 'variant', kind: 'sllm', seed, eval: { ppl: 90, ppl_ratio_matched: m, ppl_ratio_matched_ci_low: m - 0.05, ppl_ratio_matched_ci_high: m + 0.05, ppl_ratio_matched_baseline: 'lm-compute' } });
    }
    const out = join(root, 'r.md');
    await resultsAction('r', { runsDir: root, out });
    const md = readFileSync(out, 'utf8');
    expect(md).toMatch(/- git: (0123456789ab, fedcba987654|fedcba987654, 0123456789ab) \(runs from several commits: a change to the numerics/);
    // Two runs: the lowest pass to the highest; one run: its own range. No row of a bound on its own.
    expect(md).toContain('| tokens_per_s range over timed passes | 900-1100 over 2 runs |');
    expect(md).toContain('| tokens_per_s range over timed passes | 950-1100 |');
    expect(md).not.toMatch(/\| tokens_per_s_(min|max) \|/);
    expect(md).not.toMatch(/\| tokens_per_s_ratio_(min|max) \|/);
    expect(md).toContain('| tokens_per_s_ratio (/ lm) range over timed passes | 2.100-2.600 over 2 runs |');
    expect(md).toContain('| tokens_per_s_ratio_above_1 | 4.500 ± 0.7071 (n=2) |');
    expect(md).toContain('| ppl_ratio (/ lm) | 0.8000 |');
    expect(md).toContain('| ppl_ratio (/ lm) 95% interval | [0.7800, 0.8300] bootstrap over documents |');
    // The table against the baseline: mean over seeds with the t interval of the mean (0.805 ± 12.706 * 0.00707 / sqrt 2), per-seed verdicts, passes summed.
    expect(md).toContain('## Against the baseline');
    expect(md).toContain('| model | ppl_ratio (/ lm) | brier_1_diff (- lm) | tokens_per_s_ratio (/ lm) | ppl_ratio_matched (/ lm-compute) |');
    // 1.0 +- 12.706 * 0.1414 / sqrt 2; seed 0 below 1, seed 1 above.
    expect(md).toContain('| variant | - | - | - | 1.000 [-0.271, 2.271] over 2 seeds: excludes 1 in 2 of 2 seeds (below 1 in 1, above 1 in 1) |');
    expect(md).toContain('- `ppl_ratio_matched (/ lm-compute)`, seed by seed, paired over the same documents: 0.9000 [0.8500, 0.9500] (seed 0); 1.100 [1.050, 1.150] (seed 1): the interval excludes 1 in 2 of 2 seeds (below 1 in 1, above 1 in 1)');
    expect(md).toContain('| sllm | 0.8050 [0.7415, 0.8685] over 2 seeds: excludes 1 in 2 of 2 seeds (below 1 in 2) | 0.0200 [0.0200, 0.0200] over 2 seeds: excludes 0 in 0 of 2 seeds | 2.300 [2.300, 2.300] over 2 seeds: above 1 in 9 of 10 passes |');
    expect(md).toContain('| one | 0.8000 [0.7800, 0.8300]: excludes 1 in 1 of 1 seed (below 1 in 1) | 0.0200 [-0.0100, 0.0500]: excludes 0 in 0 of 1 seed | 2.300 (2.100-2.600): above 1 in 5 of 5 passes |');
    // Seeds resolved on opposite sides: the verdict names both.
    expect(md).toMatch(/\| mixed \| 0\.9250 \[[-\d.]+, [\d.]+\] over 2 seeds: excludes 1 in 2 of 2 seeds \(below 1 in 1, above 1 in 1\) \|/);
    expect(md).toContain('| brier_1_diff (- lm) 95% interval |');
    // A key ending in _min whose stem is no figure stays a row of its own.
    expect(md).toContain('| context_tokens_min | 3 |');
    // Seed by seed under the table: each paired interval and in how many seeds it excludes no change.
    expect(md).toContain('- `ppl_ratio (/ lm)`, seed by seed, paired over the same documents: 0.8000 [0.7800, 0.8300] (seed 0); 0.8100 [0.7900, 0.8400] (seed 1): the interval excludes 1 in 2 of 2 seeds (below 1 in 2)');
    expect(md).toContain('- `brier_1_diff (- lm)`, seed by seed, paired over the same documents: 0.0200 [-0.0100, 0.0500] (seed 0); 0.0200 [-0.0100, 0.0500] (seed 1): the interval excludes 0 in 0 of 2 seeds\n');
    expect(md).toContain('- `tokens_per_s_ratio (/ lm)`, seed by seed, pass by pass (interleaved): 2.300 (2.100-2.600), above 1 in 5 of 5 passes (seed 0); 2.300 (2.100-2.600), above 1 in 4 of 5 passes (seed 1)');
  });

  test("each concept head point's sampler, as its eval stored it, under its table", async () => {
    const root = mkdtempSync(join(tmpdir(), 'exp-results-sampler-'));
    const head = (seed: number, scale: number) =>
      stageRun(root, { experiment: 's', stage: 'two-tower', kind: 'lcm-diffusion', seed, model: { guidance: { scale } }, eval: { l2: 4 + seed, val_energy_score: scale + seed / 10, sampler: `DDIM 20 steps (trailing), eta 0, from 1 x unit noise, guidance ${scale}` } });
    for (const seed of [0, 1]) for (const scale of [1, 3]) head(seed, scale);
    stageRun(root, { experiment: 's', stage: 'lm', kind: 'token-lm', seed: 0, eval: { ppl: 90 } });
    const out = join(root, 's.md');
    await resultsAction('s', { runsDir: root, out });
    const md = readFileSync(out, 'utf8');
    expect(md).toMatch(/^- sampler \(model\.guidance\.scale=1\): DDIM 20 steps \(trailing\), eta 0, from 1 x unit noise, guidance 1$/m);
    expect(md).toMatch(/^- sampler \(model\.guidance\.scale=3\): DDIM 20 steps \(trailing\), eta 0, from 1 x unit noise, guidance 3$/m);
    // Only heads have one.
    expect(md.match(/^- sampler/gm)).toHaveLength(2);
    // Chosen on the validation energy score (guidance 1: 1.05 over the two seeds, against 3.05), before the charts.
    expect(md).toMatch(/## Chosen on validation\n\n.*\n\n- two-tower: lowest val_energy_score of 2 points at two-tower \(model\.guidance\.scale=1\): 1\.05\d* \[[-\d.]+, [\d.]+\] \(mean over 2 seeds\); the runner-up, two-tower \(model\.guidance\.scale=3\)/);
  });

  test('the energy score by horizon: one section, a row per head (each horizon over seeds, minus the training distribution), and a chart with a line per head', async () => {
    const root = mkdtempSync(join(tmpdir(), 'exp-results-horizon-'));
    // A horizon's bucket: the energy score, 3 for the training distribution, the difference with a stored interval.
    const bucket = (es: number, first: number) => ({ energy_score: es, train_dist: 3, diff_train_dist: es - 3, diff_train_dist_ci_low: es - 3.2, diff_train_dist_ci_high: es - 2.8, ...(es === first ? {} : { diff_next: es - first, diff_next_ci_low: es - first - 0.05, diff_next_ci_high: es - first + 0.05 }), spread_ratio: 0.8, targets: 40 });
    const family = (...es: number[]) => Object.fromEntries(es.map((e, i) => [String(i + 1), bucket(e, es[0]!)]));
    stageRun(root, { experiment: 'h', stage: 'diffusion', kind: 'lcm-diffusion', seed: 0, eval: { l2: 4, energy_score_by_horizon: family(2, 2.5, 2.9) } });
    stageRun(root, { experiment: 'h', stage: 'diffusion', kind: 'lcm-diffusion', seed: 1, eval: { l2: 4, energy_score_by_horizon: family(2.2, 2.7, 3.1) } });
    stageRun(root, { experiment: 'h', stage: 'mse', kind: 'lcm-mse', seed: 0, eval: { l2: 3, energy_score_by_horizon: family(2.6, 3.4) } });
    const out = join(root, 'h.md');
    const files = await resultsAction('h', { runsDir: root, out });
    const md = readFileSync(out, 'utf8');
    // Two seeds: the mean of the differences with the Student-t interval of that mean; one seed: its stored interval.
    // One section, a row per head across the stages, before the charts.
    expect(md).toMatch(/## By horizon\n\n.*\n\n\| point \| 1 ahead: ES, - train-dist \| 2 ahead: ES, - train-dist \| 3 ahead: ES, - train-dist \|\n/);
    expect(md.indexOf('## By horizon')).toBeLessThan(md.indexOf('## Charts'));
    expect(md).toMatch(/^\| diffusion \| 2\.100, -0\.9000 \[-2\.1706, 0\.3706\] \| 2\.600, -0\.4000 \[[-\d.]+, [\d.]+\] \| 3, 0 \[[-\d.]+, [\d.]+\] \|$/m);
    expect(md).toMatch(/^\| mse \| 2\.600, -0\.4000 \[-0\.6000, -0\.2000\] \| 3\.400, 0\.4000 \[0\.2000, 0\.6000\] \| - \|$/m);
    // What its own draws cost: from horizon 2 on, over seeds (0.5 in both seeds: an interval of width 0) or the stored interval.
    expect(md).toContain('| point | 2 ahead - 1 ahead | 3 ahead - 1 ahead |');
    expect(md).toMatch(/^\| diffusion \| 0\.5000 \[0\.5000, 0\.5000\] \| 0\.9000 \[0\.9000, 0\.9000\] \|$/m);
    expect(md).toMatch(/^\| mse \| 0\.8000 \[0\.7500, 0\.8500\] \| - \|$/m);
    // The family's flattened keys stay out of the stage tables.
    expect(md).not.toMatch(/^\| energy_score_by_horizon/m);
    expect(md).toContain("![Energy score by horizon, minus the training distribution's](h/energy_score_by_horizon.png)");
    expect(files.charts.some((f) => f.endsWith('energy_score_by_horizon.png'))).toBe(true);
  });

  test('a real tiny width sweep: the tables hold its runs\' figures, CPU time is recorded, charts show the scaling curve and the vector-use curves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-results-sweep-'));
    // An eval stage has no run folder: it records its cost in the run of the model it measured.
    const evalStage = '  eval: {kind: eval, inputs: {tokenizer: tok, models: [svae]}, documents: 2, split: validation}\n';
    const file = writeTinyPipelineFile(dir, { runsDir: join(dir, 'runs'), cacheDir: join(dir, 'datasets'), stages: `  tok: {kind: tokenizer}\n${tinySvaeStage({ train: ', logEvery: 1' })}${evalStage}` });
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await runCommandAction(file, ['stages.svae.model.dModel=8,32'], { dryRun: false, parallel: 1, cacheDir: join(dir, 'cache') })).toBe(0);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    const runs = (await listRuns(join(dir, 'runs'), { config: true })).filter((r): r is RunInfoOk => r.ok);
    expect(runs).toHaveLength(2);
    const out = join(dir, 'docs', 'tiny.md');
    const r = await resultsAction('tiny', { runsDir: join(dir, 'runs'), out });
    const md = readFileSync(out, 'utf8');
    expect(md).toContain('| result | model.dModel=8 | model.dModel=32 |');
    const byWidth = (d: number) => runs.find((x) => (x.config as { stages: { svae: { model: { dModel: number } } } }).stages.svae.model.dModel === d)!;
    const figure = (d: number, k: string) => formatCell((byWidth(d).summary!.eval as Record<string, number>)[k]);
    expect(md).toContain(`| recon_ppl | ${figure(8, 'recon_ppl')} | ${figure(32, 'recon_ppl')} |`);
    expect(md).toContain(`| recon_token_acc | ${figure(8, 'recon_token_acc')} | ${figure(32, 'recon_token_acc')} |`);
    // What the vector carries at the last evaluation, from the metric summaries, beside the eval results.
    const last = (d: number, m: string) => formatCell(byWidth(d).summary!.metrics[m]!.last);
    expect(md).toContain(`| val/recon_loss_gap (last) | ${last(8, 'val/recon_loss_gap')} | ${last(32, 'val/recon_loss_gap')} |`);
    expect(md).toMatch(/\| recon_token_acc 95% interval \| \[[\d.]+, [\d.]+\] bootstrap over documents \|/);
    // Training FLOPs: counted by the loop, larger at the larger width, printed in TFLOP.
    const flops = await Promise.all([8, 32].map(async (d) => (await readMeta(byWidth(d).dir)).resources!.trainingFlops!));
    expect(flops[0]).toBeGreaterThan(0);
    expect(flops[1]).toBeGreaterThan(flops[0]!);
    expect(md).toContain(`- training compute: ${formatFlops(flops[0]! + flops[1]!)} summed over the runs' training steps (the FLOPs of their matrix products, forward and backward: the same on any machine)`);
    expect(md).toContain(`| training TFLOP of this stage alone (matrix products of its steps, forward and backward) | ${formatCell(flops[0]! / 1e12)} | ${formatCell(flops[1]! / 1e12)} |`);
    for (const d of [8, 32]) {
      const res = (await readMeta(byWidth(d).dir)).resources!;
      expect(res.cpuUserS + res.cpuSystemS).toBeGreaterThan(0);
      expect(md).toContain(`| ${byWidth(d).meta.runId} | svae | model.dModel=${d} | 0 | `);
    }
    // Seconds as formatCell writes them (scientific below 1e-3, as a very short stage can take).
    expect(md).toMatch(/- CPU time: [\d.e-]+ s user \+ sys summed over the runs \(and 2 eval and bench stages: [\d.e-]+ s wall, [\d.e-]+ s CPU\)/);
    expect(md).toContain('## Eval and bench stages');
    // Seconds as formatCell writes them here too: the second eval can take under 1e-3 s (9.94e-4 s wall, 8.51e-4 s CPU seen).
    expect(md.match(/^\| eval \| eval \| \S+ \| [\d.e-]+ \| [\d.e-]+ \| [\d.e-]+ \| [\d.]+ → [\d.]+ \| svae \|$/gm)).toHaveLength(2);
    expect(md).not.toContain('stage_costs');
    const names = r.charts.map((f) => f.slice(join(dir, 'docs', 'tiny').length + 1));
    expect(names).toEqual(expect.arrayContaining(['recon_ppl.png', 'recon_token_acc.png', 'recon_loss_gap.png', 'train_tokens_per_s.png', 'vector-use-svae.png', 'loss-svae.png']));
    for (const f of r.charts) expect(inked(readPng(f), 0, 40), f).toBeGreaterThan(0.01);
  }, 120_000);
});
