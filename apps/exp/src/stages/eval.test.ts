/**
 * The eval stage end to end on a tiny pipeline (token LM, SentenceVAE, SLLM, MSE and energy heads, bench):
 * what its table and each model's summary.json hold.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEmbeddings, readSummary } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { executePipeline, type StageReport } from '../pipeline/execute.js';
import { tinyPipelineYaml, writeSamplesJsonl } from '../testing/tiny-pipeline.js';
import { datasetDirOf, loadData } from './dataset.js';
import { STAGES, stageRegistry } from './registry.js';

const dir = mkdtempSync(join(tmpdir(), 'exp-eval-'));
const file = join(dir, 'eval.yaml');
const train = '{steps: 2, batchSize: 2, warmupSteps: 1, evalEvery: 2, checkpointEvery: 2, evalBatches: 1}';
writeFileSync(
  file,
  tinyPipelineYaml({
    name: 'evaltiny',
    runsDir: join(dir, 'runs'),
    cacheDir: join(dir, 'data'),
    source: writeSamplesJsonl(dir),
    segment: '{mode: sentence, maxTokens: 24}',
    split: '{validation: 0.2, test: 0.2, salt: a}',
    stages: `  tok: {kind: tokenizer}
  lm:
    kind: token-lm
    inputs: {tokenizer: tok}
    model: {decoder: {dModel: 16, layers: 1, heads: 2, maxLen: 96}}
    train: ${train}
  svae:
    kind: svae
    inputs: {tokenizer: tok}
    model: {dModel: 16, encoder: {layers: 1, heads: 2, dropout: 0}, decoder: {layers: 1, heads: 2, dropout: 0}, loss: {type: cross-entropy}}
    train: ${train}
    evalSentences: 4
    resamples: 100
  sllm:
    kind: sllm
    inputs: {tokenizer: tok, svae: svae}
    model: {decoder: {dModel: 16, layers: 1, heads: 2, maxLen: 4}}
    train: ${train}
  mse:
    kind: lcm-mse
    inputs: {tokenizer: tok, svae: svae}
    model: {dModel: 16, layers: 1, heads: 2, maxSentences: 4, dropout: 0}
    train: ${train}
    evalDocuments: 4
    roundTripSentences: 2
    resamples: 100
    brierSentences: 12
    aheadHorizon: 3
  energy:
    kind: lcm-energy
    inputs: {tokenizer: tok, svae: svae}
    model: {dModel: 16, layers: 1, heads: 2, maxSentences: 4, dropout: 0, generator: {blocks: 1, noiseDim: 4, samples: 2}}
    train: ${train}
    evalDocuments: 4
    roundTripSentences: 2
    resamples: 100
    brierSentences: 12
    aheadHorizon: 3
  bench:
    kind: bench
    inputs: {tokenizer: tok, models: [lm, sllm]}
    prompts: 2
    contextSentences: 1
    tokens: 6
    warmup: 0
    repeats: 3
    kvContexts: [12, 24, 48]
  eval:
    kind: eval
    inputs: {tokenizer: tok, models: [lm, sllm, svae, mse, energy, bench]}
    documents: 4
    resamples: 100
    brierSentences: 12
`,
  }),
);

async function run(overrides: string[] = [], log: (line: string) => void = () => {}): Promise<StageReport[]> {
  return executePipeline(loadPipeline(file, STAGES, overrides).config, stageRegistry(), { overrides, cacheDir: join(dir, 'cache'), log });
}

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('eval stage', () => {
  test('matched context, intervals, PPL by context, measured KV, equal generation budgets, concept baselines', async () => {
    const logged: string[] = [];
    const reports = await run([], (l) => logged.push(l));
    const ev = reports.find((r) => r.name === 'eval')!.artifact;
    const text = readFileSync(join(ev.dir, 'comparison.txt'), 'utf8');
    const json = JSON.parse(readFileSync(join(ev.dir, 'comparison.json'), 'utf8')) as { context: string; results: Record<string, Record<string, unknown>> };
    const lm = json.results['lm']!;
    const sllm = json.results['sllm']!;
    expect(json.context).toBe('matched');
    expect(text).toMatch(/matched context: each sentence after the earlier whole sentences within \d+ tokens and 4 sentences/);
    // Matched: both models saw exactly the same context tokens.
    for (const k of ['context_tokens_mean', 'context_tokens_min', 'context_tokens_max']) expect(sllm[k]).toBe(lm[k]);
    expect(lm['ppl_fingerprint']).toBe(sllm['ppl_fingerprint']);
    // Intervals around the figure, printed beside it.
    for (const r of [lm, sllm]) {
      expect(r['ppl_ci_low'] as number).toBeLessThanOrEqual(r['ppl'] as number);
      expect(r['ppl_ci_high'] as number).toBeGreaterThanOrEqual(r['ppl'] as number);
      // Bits per byte: the same total loss as PPL, over the scored text's UTF-8 bytes.
      const totalNats = Math.log(r['ppl'] as number) * (r['ppl_tokens'] as number);
      expect((r['bits_per_byte'] as number) * (r['ppl_bytes'] as number) * Math.LN2).toBeCloseTo(totalNats, 6);
      expect(r['bits_per_byte_ci_low'] as number).toBeLessThanOrEqual(r['bits_per_byte'] as number);
      expect(r['bits_per_byte_ci_high'] as number).toBeGreaterThanOrEqual(r['bits_per_byte'] as number);
    }
    expect(lm['ppl_bytes']).toBe(sllm['ppl_bytes']);
    expect(lm['ppl_bytes'] as number).toBeGreaterThan(lm['ppl_tokens'] as number);
    expect(text).toMatch(new RegExp(`: ${lm['ppl_tokens']} tokens \\(${lm['ppl_bytes']} bytes of text`));
    expect(text).toMatch(/lm\s+token-lm\s+\d+\s+[\d.e-]+\s+[\d.]+ \[[\d.]+, [\d.]+\]/);
    expect(text).toMatch(/^PPL: lm .* vs sllm .*: 95% intervals (do not )?overlap/m);
    // The SLLM's PPL over the token LM's, with a paired interval (the same documents drawn for both), in the table and under it.
    expect(sllm['ppl_ratio'] as number).toBeCloseTo((sllm['ppl'] as number) / (lm['ppl'] as number), 12);
    expect(sllm['ppl_ratio_ci_low'] as number).toBeLessThanOrEqual(sllm['ppl_ratio'] as number);
    expect(sllm['ppl_ratio_ci_high'] as number).toBeGreaterThanOrEqual(sllm['ppl_ratio'] as number);
    expect(sllm['ppl_ratio_baseline']).toBe('lm');
    expect(lm['ppl_ratio']).toBeUndefined();
    expect(text).toMatch(/^PPL sllm \/ lm, paired over the same documents: [\d.]+ \[[\d.]+, [\d.]+\]: (excludes 1: the difference is resolved|includes 1: the difference is not resolved by these 4 documents)$/m);
    expect(text).toMatch(/^sllm\s+sllm\s.*\s[\d.]+ \[[\d.]+, [\d.]+\]$/m);
    // tok/s over the token LM's pass by pass (the bench interleaves the passes): a median ratio, its range, the passes above 1.
    expect(sllm['tokens_per_s_ratio_min'] as number).toBeLessThanOrEqual(sllm['tokens_per_s_ratio'] as number);
    expect(sllm['tokens_per_s_ratio_max'] as number).toBeGreaterThanOrEqual(sllm['tokens_per_s_ratio'] as number);
    expect(sllm['tokens_per_s_ratio_above_1'] as number).toBeGreaterThanOrEqual(0);
    expect(sllm['tokens_per_s_ratio_above_1'] as number).toBeLessThanOrEqual(3);
    expect(sllm['tokens_per_s_ratio_baseline']).toBe('lm');
    expect(lm['tokens_per_s_ratio']).toBeUndefined();
    // Brier over the token LM's, paired on the same next sentences.
    expect(sllm['brier_1_diff'] as number).toBeCloseTo((sllm['brier_1'] as number) - (lm['brier_1'] as number), 12);
    expect(sllm['brier_lm_diff'] as number).toBeCloseTo((sllm['brier_lm'] as number) - (lm['brier_lm'] as number), 9);
    expect(sllm['brier_1_diff_ci_low'] as number).toBeLessThanOrEqual(sllm['brier_1_diff'] as number);
    expect(sllm['brier_1_diff_baseline']).toBe('lm');
    expect(lm['brier_1_diff']).toBeUndefined();
    // A line under the tables, unless both models scored the same on every draw (an interval of [0, 0] says nothing).
    const silent = sllm['brier_1_diff_ci_low'] === 0 && sllm['brier_1_diff_ci_high'] === 0;
    if (silent) expect(text).not.toMatch(/^Brier-1 sllm - lm/m);
    else expect(text).toMatch(/^Brier-1 sllm - lm, paired over the same documents: -?[\d.]+ \[-?[\d.]+, -?[\d.]+\]: (excludes|includes) 0: /m);
    expect(text).toMatch(/^tok\/s sllm \/ lm, pass by pass \(interleaved\): [\d.]+ \([\d.]+-[\d.]+\): above 1 in [0-3] of 3 passes$/m);
    // Training compute beside each predictor: the SLLM's counts its SentenceVAE's.
    // Every stage counted its FLOPs: compute is compared in them, CPU seconds beside.
    expect(text).toMatch(/^lm \(token-lm\): .* [\d.]+ [kMGT]?FLOP to train \(itself [\d.]+ [kMGT]?FLOP, tok 0 FLOP; [\d,]+ CPU s\)$/m);
    expect(text).toMatch(/^sllm \(sllm\): .* [\d.]+ [kMGT]?FLOP to train \(.*svae [\d.]+ [kMGT]?FLOP.*; [\d,]+ CPU s\)$/m);
    // PPL by context: one row per model, stored per bucket.
    expect(text).toMatch(/^model\s+ctx 0-32\s+ctx 32-64\s+ctx 64-128\s+ctx 128-256\s+ctx 256\+$/m);
    expect(Object.keys(lm['ppl_by_context'] as object)).toEqual(['0-32', '32-64', '64-128', '128-256', '256+']);
    // Equal generation budgets: 2 prompts x 6 tokens each.
    expect(lm['generated_tokens']).toBe(12);
    expect(sllm['generated_tokens']).toBe(12);
    // Speed: the median of 3 timed passes, their range beside it.
    for (const r of [lm, sllm]) {
      expect(r['speed_repeats']).toBe(3);
      expect(r['tokens_per_s_min'] as number).toBeLessThanOrEqual(r['tokens_per_s'] as number);
      expect(r['tokens_per_s_max'] as number).toBeGreaterThanOrEqual(r['tokens_per_s'] as number);
    }
    expect(logged.join('\n')).toMatch(/\[bench\] lm: 12 tokens generated, [\d.]+ tokens\/s \(median of 3 passes interleaved with the other models', [\d.]+-[\d.]+; /);
    // KV: analytical and measured on the caches agree (the bench measures bytes per cache position:
    // a token for the token LM, a sentence for the SLLM; per token over the eval documents for both);
    // what generating adds is apart: the token LM's 6 - 1 generated positions, the SLLM's sentence decoder cache.
    for (const r of [lm, sllm]) {
      expect(r['kv_bytes_per_token_measured'] as number).toBeCloseTo(r['kv_bytes_per_token'] as number, 6);
      expect(r['kv_fit_r2']).toBeCloseTo(1, 9);
    }
    expect(lm['kv_bytes_per_position_measured']).toBeCloseTo(lm['kv_bytes_per_token'] as number, 6);
    expect(lm['kv_generation_bytes']).toBe(5 * (lm['kv_bytes_per_token'] as number));
    expect(sllm['kv_generation_bytes'] as number).toBeGreaterThan(0);
    expect(sllm['kv_bytes_intercept']).toBeUndefined();
    expect(text).toMatch(/KV bytes per context token, lm: analytical 128 vs measured on the caches 128 \(0\.0%, fit r2 1\.000\)/);
    expect(text).toMatch(/KV bytes per context token, sllm: analytical [\d.]+ vs measured on the caches [\d.]+ \(0\.0%, fit r2 1\.000\)/);
    expect(logged.join('\n')).toMatch(/\[bench\] sllm: .*KV [\d.]+ B per cached sentence \(r2 1\.000, prompts of [\d/]+ sentences\), generating added up to \d+ B/);
    // The heads beside their baselines, with intervals and the copy-previous flag.
    const mse = json.results['mse']!;
    const energy = json.results['energy']!;
    for (const head of [mse, energy]) {
      for (const k of ['l2', 'l2_copy_prev', 'l2_train_mean', 'contrastive_acc', 'contrastive_acc_copy_prev', 'contrastive_acc_train_mean']) {
        expect(head[`${k}_ci_low`] as number).toBeLessThanOrEqual(head[k] as number);
        expect(head[`${k}_ci_high`] as number).toBeGreaterThanOrEqual(head[k] as number);
      }
    }
    // The same targets for both heads: their copy-previous baselines agree.
    expect(energy['l2_copy_prev']).toBe(mse['l2_copy_prev']);
    // The energy score of two draws: the MSE head draws the same prediction twice, so it is its
    // L2; the energy head's second draw differs, so its score is below its L2.
    expect(mse['energy_score']).toBeCloseTo(mse['l2'] as number, 6);
    expect(energy['energy_score'] as number).toBeLessThan(energy['l2'] as number);
    for (const head of [mse, energy]) expect(head['energy_score_ci_low'] as number).toBeLessThanOrEqual(head['energy_score'] as number);
    // The energy score's terms as spread / skill: the MSE head's two draws coincide (0); the
    // energy head's differ; sampling the training embeddings spreads about as far as it lands.
    expect(mse['spread_ratio']).toBe(0);
    expect(energy['spread_ratio'] as number).toBeGreaterThan(0);
    expect(energy['spread_ratio_ci_low'] as number).toBeLessThanOrEqual(energy['spread_ratio'] as number);
    expect(energy['spread_ratio_ci_high'] as number).toBeGreaterThanOrEqual(energy['spread_ratio'] as number);
    expect(energy['spread_ratio_train_dist']).toBe(mse['spread_ratio_train_dist']);
    expect(Math.abs((mse['spread_ratio_train_dist'] as number) - 1)).toBeLessThan(0.3);
    // The same two figures on validation documents (to choose a sampler on): other documents, other figures.
    for (const head of [mse, energy]) {
      expect(head['val_eval_targets'] as number).toBeGreaterThan(0);
      expect(head['val_energy_score']).not.toBe(head['energy_score']);
      expect(head['val_energy_score_ci_low'] as number).toBeLessThanOrEqual(head['val_energy_score'] as number);
    }
    expect(mse['val_spread_ratio']).toBe(0);
    expect(energy['val_spread_ratio'] as number).toBeGreaterThan(0);
    // Sampling the training distribution, the same draws for both heads (the same seed and targets).
    expect(energy['energy_score_train_dist']).toBe(mse['energy_score_train_dist']);
    expect(mse['energy_score_train_dist_ci_high'] as number).toBeGreaterThanOrEqual(mse['energy_score_train_dist'] as number);
    // The paired difference: the mean of the per-target differences is the difference of the means.
    for (const head of [mse, energy]) {
      expect(head['energy_score_diff_train_dist']).toBeCloseTo((head['energy_score'] as number) - (head['energy_score_train_dist'] as number), 9);
      expect(head['energy_score_diff_train_dist_ci_low'] as number).toBeLessThanOrEqual(head['energy_score_diff_train_dist'] as number);
    }
    // The energy head paired with the first head (the eval's baseline is a token LM): the same targets, so the mean difference is the difference of the means.
    expect(energy['energy_score_diff']).toBeCloseTo((energy['energy_score'] as number) - (mse['energy_score'] as number), 9);
    expect(energy['energy_score_diff_baseline']).toBe('mse');
    // The LCM paper's figures paired the same way: the mean difference is the difference of the means.
    expect(energy['l2_diff']).toBeCloseTo((energy['l2'] as number) - (mse['l2'] as number), 9);
    expect(energy['contrastive_acc_diff']).toBeCloseTo((energy['contrastive_acc'] as number) - (mse['contrastive_acc'] as number), 9);
    expect(energy['l2_diff_ci_low'] as number).toBeLessThanOrEqual(energy['l2_diff'] as number);
    expect(energy['contrastive_acc_diff_baseline']).toBe('mse');
    expect(text).toMatch(/^L2 energy - mse \(the same \d+ targets\), paired over the same documents: /m);
    expect(mse['energy_score_diff']).toBeUndefined();
    // Their BrierLM items are the same next sentences: paired with the first head's too.
    expect(energy['brier_1_diff']).toBeCloseTo((energy['brier_1'] as number) - (mse['brier_1'] as number), 9);
    expect(energy['brier_1_diff_baseline']).toBe('mse');
    expect(energy['brier_lm_diff_baseline']).toBe('mse');
    // Two sentences ahead: both heads rolled out the same targets (their training-distribution
    // figures there agree), each paired with the other on them; the mean difference is the
    // difference of the means. A plain SentenceVAE: no posterior draws to score ahead against.
    for (const head of [mse, energy]) {
      expect(head['ahead_targets'] as number).toBeGreaterThan(0);
      expect(head['ahead_targets'] as number).toBeLessThan(head['eval_targets'] as number);
      expect(head['energy_score_ahead_diff_train_dist']).toBeCloseTo((head['energy_score_ahead'] as number) - (head['energy_score_ahead_train_dist'] as number), 9);
      expect(head['energy_score_ahead_posterior']).toBeUndefined();
      expect(head['energy_score_ahead_diff_next_ci_low'] as number).toBeLessThanOrEqual(head['energy_score_ahead_diff_next'] as number);
    }
    // By horizon: the same targets at horizons 1 (teacher-forced), 2 (energy_score_ahead's) and 3, one
    // training-distribution reference for all; an MSE head's two draws coincide at every horizon.
    for (const head of [mse, energy]) {
      const family = head['energy_score_by_horizon'] as Record<string, Record<string, number>>;
      expect(Object.keys(family)).toEqual(['1', '2', '3']);
      for (const b of Object.values(family)) {
        expect(b['targets']).toBe(head['ahead_targets']);
        expect(b['train_dist']).toBe(head['energy_score_ahead_train_dist']);
        expect(b['diff_train_dist']).toBeCloseTo(b['energy_score']! - b['train_dist']!, 9);
        expect(b['energy_score_ci_low']).toBeLessThanOrEqual(b['energy_score']!);
        expect(b['diff_train_dist_ci_high']).toBeGreaterThanOrEqual(b['diff_train_dist']!);
      }
      expect(family['2']!['energy_score']).toBe(head['energy_score_ahead']);
      expect(family['2']!['spread_ratio']).toBe(head['spread_ratio_ahead']);
      // Horizon 1 is the teacher-forced draw on these targets: energy_score_ahead_diff_next's other side.
      expect(family['1']!['energy_score']).toBeCloseTo((head['energy_score_ahead'] as number) - (head['energy_score_ahead_diff_next'] as number), 9);
      expect(family['3']!['energy_score']).not.toBe(family['2']!['energy_score']);
      // From horizon 2 on, minus horizon 1's target by target; at 2, energy_score_ahead_diff_next.
      expect(family['1']!['diff_next']).toBeUndefined();
      expect(family['2']!['diff_next']).toBeCloseTo(head['energy_score_ahead_diff_next'] as number, 9);
      expect(family['3']!['diff_next']).toBeCloseTo(family['3']!['energy_score']! - family['1']!['energy_score']!, 9);
    }
    // Printed as a table: each head's row with its targets, the training distribution's score and each horizon's.
    expect(text).toMatch(/^model\s+kind\s+targets\s+train-dist ES\s+1 ahead: ES, - train-dist\s+2 ahead: ES, - train-dist\s+3 ahead: ES, - train-dist\s+below train-dist through$/m);
    expect(text).toMatch(new RegExp(`^energy\\s+lcm-energy\\s+${energy['ahead_targets']}\\s+[\\d.]+\\s+[\\d.]+, -?[\\d.]+ \\[`, 'm'));
    for (const h of ['1', '2', '3']) expect((mse['energy_score_by_horizon'] as Record<string, Record<string, number>>)[h]!['spread_ratio']).toBe(0);
    expect(mse['spread_ratio_ahead']).toBe(0);
    expect(energy['spread_ratio_ahead'] as number).toBeGreaterThan(0);
    expect(energy['energy_score_ahead_train_dist']).toBe(mse['energy_score_ahead_train_dist']);
    expect(energy['energy_score_ahead_diff']).toBeCloseTo((energy['energy_score_ahead'] as number) - (mse['energy_score_ahead'] as number), 9);
    expect(energy['energy_score_ahead_diff_baseline']).toBe('mse');
    expect(text).toContain(`ES 2 ahead energy - mse (the same ${energy['ahead_targets']} targets), paired over the same documents: `);
    expect(text).toContain(`Concept heads two sentences ahead, each reading its own draw of the sentence before, as it generates (${mse['ahead_targets']} targets; lower energy score is better):`);
    expect(text).toMatch(/^model\s+kind\s+ES 2 ahead\s+ES 2 ahead - train-dist\s+ES 2 ahead - next\s+spread \/ skill 2 ahead$/m);
    expect(Number(text.split('\n').filter((l) => l.startsWith('training dist.  ')).at(-1)!.split(/\s{2,}/)[2]!.split(' ')[0])).toBeCloseTo(mse['energy_score_ahead_train_dist'] as number, 2);
    // A plain SentenceVAE: no posterior to draw targets from.
    expect(energy['energy_score_posterior']).toBeUndefined();
    expect(text).toContain(`energy score energy - mse (the same ${energy['eval_targets']} targets), paired over the same documents: `);
    expect(text).toMatch(/^energy score energy - mse \(the same \d+ targets\), paired over the same documents: -?[\d.]+ \[-?[\d.]+, -?[\d.]+\]: (includes 0: the difference is not resolved by these 4 documents|excludes 0: the difference is resolved)$/m);
    // The heads in two tables, as distributions then as points, their baselines as rows: one
    // row each, as both heads were scored on the same targets.
    expect(text).toMatch(/^Concept heads as distributions of the next vector \(lower energy score is better; spread \/ skill is 1 for draws as spread as the targets\):\nmodel\s+kind\s+params\s+train TFLOP\s+BrierLM\s+Brier-1\s+energy score\s+ES - train-dist\s+spread \/ skill\s+val\. energy score\s+val\. spread \/ skill$/m);
    const rowOf = (name: string) => text.split('\n').find((l) => l.startsWith(`${name}  `))!.split(/\s{2,}/);
    expect(rowOf('training dist.').slice(1, 6)).toEqual(['baseline', '-', '-', '-', '-']);
    expect(Number(rowOf('training dist.')[6]!.split(' ')[0])).toBeCloseTo(mse['energy_score_train_dist'] as number, 2);
    expect(text).toMatch(/^Concept heads as points \(the LCM paper's figures; lower L2, higher contrastive accuracy is better\):\nmodel\s+kind\s+L2\s+contr\. acc\s+round-trip L2\s+vs copy-prev$/m);
    expect(rowOf('copy-previous')[1]).toBe('baseline');
    expect(Number(rowOf('copy-previous')[2]!.split(' ')[0])).toBeCloseTo(mse['l2_copy_prev'] as number, 2);
    expect(Number(rowOf('copy-previous')[3]!.split(' ')[0])).toBeCloseTo(mse['contrastive_acc_copy_prev'] as number, 3);
    expect(text).toMatch(/^training mean\s+baseline\s+/m);
    expect(text).not.toMatch(/L2 copy-prev|ES train-dist/);
    // How each head drew its vectors, under their table and stored with its figures.
    expect(text).toMatch(/^How each concept head draws the next vector \(its L2, energy score and contrastive accuracy depend on it\):\n  mse: a point \(no sampler\)\n  energy: one generator pass from \d+-d uniform noise$/m);
    expect(mse['sampler']).toBe('a point (no sampler)');
    expect(lm['sampler']).toBeUndefined();
    expect(text).toMatch(/mse\s+lcm-mse.*(beats|DOES NOT BEAT)/);
    expect(text).toMatch(/energy\s+lcm-energy.*(beats|DOES NOT BEAT)/);
    // Each table has only its rows' columns: predictors' quality, their generation, the heads, the SentenceVAE.
    expect(text).toMatch(/^model\s+kind\s+params\s+train TFLOP\s+PPL\s+PPL tokens\s+bits\/byte\s+bytes\s+ctx tokens\s+BrierLM\s+Brier-1\s+params xlm\s+train TFLOP xlm\s+PPL xlm$/m);
    expect(text).toMatch(/^Generation \(the bench stage: batch 1, greedy, the same token budget per prompt; tok\/s: median of 3 timed passes \(their range\); tok\/s xlm: median of the per-pass ratios, passes interleaved \(their range\)\):\nmodel\s+kind\s+gen tokens\s+tok\/s\s+tok\/s excl\. 1st\s+KV B\/tok analyt\./m);
    expect(text).toMatch(/^lm\s+token-lm\s+12\s+[\d.]+ \([\d.]+-[\d.]+\)\s/m);
    expect(text).toMatch(/^model\s+kind\s+params\s+train TFLOP\s+recon tok acc\s+recon exact$/m);
    // Training FLOPs with the stages each builds on: the SLLM's include its SentenceVAE's, counted once.
    const flopsOf = (name: string) => (reports.find((r) => r.name === name)!.artifact.meta['compute'] as { flops: number }).flops;
    expect(lm['training_tflop']).toBe(flopsOf('lm') / 1e12);
    expect(flopsOf('lm')).toBeGreaterThan(0);
    expect(sllm['training_tflop']).toBe((flopsOf('sllm') + flopsOf('svae') + flopsOf('tok')) / 1e12);
    expect(flopsOf('tok')).toBe(0);
    // The SentenceVAE's reconstruction with its interval over validation documents: its 4
    // sentences spread over them (the first 4 would all sit in the first document, no interval).
    const validation = await (await loadData(datasetDirOf(reports.find((r) => r.name === 'tok')!.artifact))).split('validation');
    expect(validation[0]!.sentences.length).toBeGreaterThanOrEqual(4);
    expect(logged.join('\n')).toContain(`reconstruction on 4 validation sentences from ${Math.min(4, validation.length)} documents`);
    const svae = json.results['svae']!;
    expect(svae['recon_token_acc_ci_low'] as number).toBeLessThanOrEqual(svae['recon_token_acc'] as number);
    expect(svae['recon_token_acc_ci_high'] as number).toBeGreaterThanOrEqual(svae['recon_token_acc'] as number);
    // How much noise its vectors take: the curve in the log, the half point (null while they carry nothing) in the results.
    expect(logged.join('\n')).toMatch(/vector noise \(validation, gap -?[\d.]+ nats\): kept -?\d+% at 0\.0625, .*% at 16; (half lost at noise [\d.e+-]+ x the vector's RMS|half is kept even at 16|the vector carries nothing yet)/);
    expect(reports.find((r) => r.name === 'svae')!.artifact.meta['eval']).toHaveProperty('recon_noise_half');
    // One likelihood-free score for every family, on at most 12 next sentences each.
    for (const r of [lm, sllm, mse, energy]) {
      expect(r['brier_lm'] as number).toBeGreaterThanOrEqual(0);
      expect(r['brier_lm_ci_low'] as number).toBeLessThanOrEqual(r['brier_lm'] as number);
      expect(r['brier_sentences']).toBe(12);
    }
    expect(text).toMatch(/^BrierLM: 100 x geometric mean of Brier-1\.\.4/m);
    // The same figures in the model's summary.json.
    const summary = await readSummary(reports.find((r) => r.name === 'lm')!.artifact.runDir!);
    expect(summary!.eval['ppl_ci_low']).toBe(lm['ppl_ci_low']);
    expect(summary!.eval['kv_bytes_per_token_measured']).toBe(lm['kv_bytes_per_token_measured']);
    expect((summary!.eval['ppl_by_context'] as Record<string, { tokens: number }>)['0-32']!.tokens).toBeGreaterThan(0);

    // Unmatched: each model's own windows; the token LM sees more context than the 4-sentence SLLM window on average.
    const again = await run(['stages.eval.context=unmatched']);
    const un = JSON.parse(readFileSync(join(again.find((r) => r.name === 'eval')!.artifact.dir, 'comparison.json'), 'utf8')) as typeof json;
    expect(un.context).toBe('unmatched');
    expect(un.results['lm']!['context_tokens_mean']).not.toBe(un.results['sllm']!['context_tokens_mean']);
    expect(un.results['lm']!['ppl_fingerprint']).toBe(lm['ppl_fingerprint']);

    // KV contexts whose prompts are all one sentence (of different token counts): the token LM
    // could be fitted, the SLLM, one position per sentence, cannot; the error says so and why.
    const test = await (await loadData(datasetDirOf(reports.find((r) => r.name === 'tok')!.artifact))).split('test');
    const tokens = (s: ArrayLike<number>) => s.length + 1;
    const twoSentences = Math.min(...test.filter((d) => d.sentences.length >= 2).map((d) => tokens(d.sentences[0]!) + tokens(d.sentences[1]!)));
    const single = [...new Set(test.map((d) => tokens(d.sentences[0]!)))].filter((t) => t < twoSentences && t + 1 + 6 <= 96).sort((x, y) => x - y);
    expect(single.length).toBeGreaterThanOrEqual(2);
    await expect(run([`stages.bench.kvContexts=[${single[0]}, ${single.at(-1)}]`])).rejects.toThrow(
      `stage bench: kvContexts [${single[0]},${single.at(-1)}] give prompts of 1/1 sentences for sllm: it needs 2 or more lengths to measure its KV bytes per sentence; spread the contexts`,
    );
  }, 300_000);

  test('the SentenceVAE and the concept head keep their held-out sentence vectors (and the head its predictions) in embeddings.json', async () => {
    const reports = await run();
    const svae = reports.find((r) => r.name === 'svae')!.artifact;
    const validation = await (await loadData(datasetDirOf(reports.find((r) => r.name === 'tok')!.artifact))).split('validation');
    const own = (await readEmbeddings(svae.runDir!))!;
    expect(own.source).toBe('svae');
    expect(own.dim).toBe(16);
    expect(own.documents.map((d) => d.id)).toEqual(validation.filter((d) => d.sentences.length > 0).map((d) => d.id));
    expect(own.documents.map((d) => d.sentences.map((s) => s.text))).toEqual(validation.filter((d) => d.sentences.length > 0).map((d) => d.texts));
    expect(own.predictions).toEqual([]);

    const mse = reports.find((r) => r.name === 'mse')!.artifact;
    const head = (await readEmbeddings(mse.runDir!))!;
    const summary = (await readSummary(mse.runDir!))!.eval;
    expect(head.source).toBe('concept-head');
    expect(head.documents).toHaveLength(summary['eval_documents'] as number);
    // Every target sentence (each document's second onwards) has its prediction; their mean L2
    // to the true next sentence's vector is the head's reported L2 (to the file's 4 digits).
    expect(head.predictions).toHaveLength(summary['eval_targets'] as number);
    expect(head.predictions.every((p) => p.sentence >= 1)).toBe(true);
    const dist = (a: number[], b: number[]) => Math.hypot(...a.map((x, i) => x - b[i]!));
    const l2 = head.predictions.reduce((sum, p) => sum + dist(p.vector, head.documents[p.document]!.sentences[p.sentence]!.vector), 0) / head.predictions.length;
    expect(Math.abs(l2 - (summary['l2'] as number)) / (summary['l2'] as number)).toBeLessThan(2e-3);
  }, 300_000);
});
