import { join } from 'node:path';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { matchingReport, objectiveOf, plannedBaseline, plannedProfiles, predictorProfile, type PredictorProfile } from './matching.js';
import { STAGES } from './registry.js';

const repoRoot = join(__dirname, '..', '..', '..', '..');

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

const lm = { stage: 'lm', kind: 'token-lm' as const, meta: { config: { vocabSize: 1024 }, eval: { params: 248_000 } } };
const sllm = (params: number, config: object) => ({ stage: 'sllm', kind: 'sllm' as const, meta: { config, eval: { params } } });

describe('matched comparisons', () => {
  test('objectives: the token LM trains with cross-entropy; an SLLM with its loss section, or, saved before it had one, its SentenceVAE\'s', () => {
    expect(objectiveOf('token-lm', {})).toBe('cross-entropy');
    expect(objectiveOf('sllm', { loss: { type: 'cross-entropy', gamma: 2 }, svae: { loss: { type: 'focal', gamma: 2 } } })).toBe('cross-entropy');
    expect(objectiveOf('sllm', { loss: { type: 'focal', gamma: 3 } })).toBe('focal (gamma 3)');
    expect(objectiveOf('sllm', { loss: { type: 'focal', gamma: 0 } })).toBe('cross-entropy');
    expect(objectiveOf('sllm', { svae: { loss: { type: 'focal', gamma: 2 } } })).toBe('focal (gamma 2)');
    expect(objectiveOf('sllm', { svae: { loss: { type: 'cross-entropy', gamma: 2 } } })).toBe('cross-entropy');
  });

  test('matched within 10% and the same objective: profiles printed, no warning', () => {
    const r = matchingReport([predictorProfile(lm), predictorProfile(sllm(250_626, { loss: { type: 'cross-entropy' } }))], 'lm');
    expect(r.lines).toEqual(['lm (token-lm): 248,000 parameters (x1.00 lm), trained with cross-entropy', 'sllm (sllm): 250,626 parameters (x1.01 lm), trained with cross-entropy']);
    expect(r.warnings).toEqual([]);
  });

  test('a focal-loss SLLM with 2.2x the parameters: one warning for each', () => {
    const r = matchingReport([predictorProfile(lm), predictorProfile(sllm(545_600, { svae: { loss: { type: 'focal', gamma: 2 } } }))], 'lm');
    expect(r.warnings).toEqual([
      'warning: sllm trained with focal (gamma 2), lm with cross-entropy: their PPLs compare different objectives',
      'warning: sllm has 545,600 parameters, lm 248,000: 120% apart, more than 10%',
    ]);
    // 10% apart is still matched; just over is not, whichever side is larger.
    expect(matchingReport([predictorProfile(lm), predictorProfile(sllm(272_800, { loss: { type: 'cross-entropy' } }))], 'lm').warnings).toEqual([]);
    expect(matchingReport([predictorProfile(lm), predictorProfile(sllm(225_000, { loss: { type: 'cross-entropy' } }))], 'lm').warnings).toHaveLength(1);
  });

  test('no baseline among the predictors: compared with the first; a single predictor: nothing to say', () => {
    const r = matchingReport([predictorProfile(sllm(100, { loss: { type: 'focal', gamma: 2 } })), predictorProfile(lm)], 'svae');
    expect(r.warnings[0]).toBe('warning: lm trained with cross-entropy, sllm with focal (gamma 2): their PPLs compare different objectives');
    expect(matchingReport([predictorProfile(lm)], 'lm')).toEqual({ lines: [], warnings: [] });
  });
});

describe('the shipped comparisons are matched', () => {
  const profiles = (file: string): PredictorProfile[] => plannedProfiles(loadPipeline(join(repoRoot, file), STAGES).config);

  test.each(['configs/quickstart.yaml', 'configs/paper/sllm-vs-token.yaml'])('%s: every SLLM within 10% of the token LM\'s parameters, all with cross-entropy', (file) => {
    const p = profiles(file);
    expect(p.filter((x) => x.kind === 'sllm').length).toBeGreaterThan(0);
    expect(p.map((x) => x.objective)).toEqual(p.map(() => 'cross-entropy'));
    expect(plannedBaseline(loadPipeline(join(repoRoot, file), STAGES).config)).toBe('lm');
    expect(matchingReport(p, 'lm').warnings).toEqual([]);
  }, 60_000);
});
