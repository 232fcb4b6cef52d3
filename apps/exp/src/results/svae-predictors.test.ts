import type { RunInfoOk } from '@sentencelab/runs';
import { describe, expect, test } from 'vitest';
import type { StageResults } from './points.js';
import { predictorCorrelations, predictorSection, svaeSllmPairs } from './svae-predictors.js';

const DATA = { source: { type: 'brown' } };

/** A finished run as `listRuns` gives it, as far as pairing and the figures read it. */
function run(stages: Record<string, unknown>, seed: number, evalFigures: Record<string, number>, data: unknown = DATA): RunInfoOk {
  return { config: { name: 'x', seed, data, backend: 'auto', stages }, summary: { eval: evalFigures, metrics: {} } } as unknown as RunInfoOk;
}

function stage(name: string, kind: string, runs: RunInfoOk[]): StageResults {
  return { stage: name, kind, points: [{ stage: name, kind, label: '', values: {}, runs }] };
}

const SVAE_A = { kind: 'svae', model: { dModel: 8 } };
const SVAE_B = { kind: 'svae', model: { dModel: 8, latentNoise: 1 } };
const SLLM_A = { kind: 'sllm', inputs: { svae: 'svae-a' } };
const SLLM_B = { kind: 'sllm', inputs: { svae: 'svae-b' } };

describe('svaeSllmPairs', () => {
  test('pairs each SLLM run with the run of the SentenceVAE stage it read, at the same seed and data, whatever else its config holds', () => {
    const svaeA = [0, 1].map((s) => run({ 'svae-a': SVAE_A }, s, { recon_ppl: 10 + s }));
    const svaeB = [0, 1].map((s) => run({ 'svae-a': SVAE_A, 'svae-b': SVAE_B, 'sllm-b': SLLM_B }, s, { recon_ppl: 20 + s }));
    // Another corpus' SentenceVAE at seed 0: not the one sllm-a read.
    const otherData = run({ 'svae-a': SVAE_A }, 0, { recon_ppl: 99 }, { source: { type: 'sotu' } });
    const sllmA = [0, 1].map((s) => run({ 'svae-a': SVAE_A, 'sllm-a': SLLM_A }, s, { ppl: 100 + s }));
    const sllmB = [0, 1, 2].map((s) => run({ 'svae-b': SVAE_B, 'sllm-b': SLLM_B }, s, { ppl: 200 + s }));
    const pairs = svaeSllmPairs([stage('svae-a', 'svae', [otherData, ...svaeA]), stage('svae-b', 'svae', svaeB), stage('sllm-a', 'sllm', sllmA), stage('sllm-b', 'sllm', sllmB)]);
    // sllm-b at seed 2 has no SentenceVAE run here: left out.
    expect(pairs.map((p) => [p.svaeStage, p.sllmStage])).toEqual([
      ['svae-a', 'sllm-a'],
      ['svae-a', 'sllm-a'],
      ['svae-b', 'sllm-b'],
      ['svae-b', 'sllm-b'],
    ]);
    expect(pairs.map((p) => p.svae)).toEqual([svaeA[0], svaeA[1], svaeB[0], svaeB[1]]);
    expect(pairs.map((p) => p.sllm)).toEqual([sllmA[0], sllmA[1], sllmB[0], sllmB[1]]);
  });
});

/** Six SentenceVAE + SLLM pairs: seeds 0..5 of one stage pair, the SLLM's PPL rising with the seed. */
function sixPairs(svaeFigures: (seed: number) => Record<string, number>): StageResults[] {
  const seeds = [0, 1, 2, 3, 4, 5];
  return [
    stage('svae-a', 'svae', seeds.map((s) => run({ 'svae-a': SVAE_A }, s, svaeFigures(s)))),
    stage('sllm-a', 'sllm', seeds.map((s) => run({ 'svae-a': SVAE_A, 'sllm-a': SLLM_A }, s, { ppl: 100 + s * s }))),
  ];
}

describe('predictorCorrelations', () => {
  test("each figure's Spearman rho with the SLLM's PPL over the pairs that have it; figures fewer than 3 pairs have, left out", () => {
    const stages = sixPairs((s) => ({ recon_ppl: 5 + s, recon_noise_half: 10 - s, recon_token_acc: [3, 1, 2, 6, 5, 4][s]!, ...(s < 2 ? { val_kl: s } : {}) }));
    const rows = predictorCorrelations(svaeSllmPairs(stages));
    expect(rows.map((r) => r.key)).toEqual(['recon_ppl', 'recon_token_acc', 'recon_noise_half']);
    expect(rows.map((r) => r.n)).toEqual([6, 6, 6]);
    expect(rows[0]!.rho).toBeCloseTo(1, 12);
    expect(rows[2]!.rho).toBeCloseTo(-1, 12);
    // Ranks 3 1 2 6 5 4 against 1..6: 1 - 6 * (4 + 1 + 1 + 4 + 0 + 4) / (6 * 35) = 0.6.
    expect(rows[1]!.rho).toBeCloseTo(0.6, 12);
    // t(0.975, 4) = 2.776: 2.776 / sqrt(4 + 2.776^2).
    expect(rows[0]!.critical).toBeCloseTo(0.8114, 3);
  });
});

describe('predictorSection', () => {
  test('a table of rho, pairs, the |rho| needed at 5% and whether it is told from chance', () => {
    const section = predictorSection(sixPairs((s) => ({ recon_ppl: 5 + s, recon_token_acc: [3, 1, 2, 6, 5, 4][s]! })))!;
    expect(section[0]).toBe("## What the SentenceVAE's figures say of its SLLM");
    expect(section.join('\n')).toContain('over every pair in these runs (6: sllm-a, every seed, pooled)');
    expect(section.join('\n')).toContain('| `recon_ppl`: reconstruction PPL (teacher-forced) | 1.00 | 6 | 0.81 | yes |');
    expect(section.join('\n')).toContain('| `recon_token_acc`: reconstruction token accuracy (greedy) | 0.60 | 6 | 0.81 | no |');
  });

  test('none under 4 pairs', () => {
    const stages = sixPairs((s) => ({ recon_ppl: s })).map((s) => ({ ...s, points: s.points.map((p) => ({ ...p, runs: p.runs.slice(0, 3) })) }));
    expect(predictorSection(stages)).toBeUndefined();
  });
});
