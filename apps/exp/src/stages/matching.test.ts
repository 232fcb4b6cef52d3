import { join } from 'node:path';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { matchingReport, objectiveOf, plannedBaseline, plannedProfiles, predictorProfile, type PredictorProfile } from './matching.js';
import { stageCompute, type StageCompute } from '../pipeline/compute.js';
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

  test('training compute: printed per predictor with its upstream stages; a warning beyond 25% that names a compute-matched predictor', () => {
    const tok = { stage: 'tok', kind: 'tokenizer' as const, hash: 'h-tok', dir: '/x', files: {}, meta: { compute: stageCompute(4, {}) }, createdAt: '' };
    const svae = { ...tok, stage: 'svae', kind: 'svae' as const, hash: 'h-svae', meta: { compute: stageCompute(326, { tokenizer: tok }) } };
    const withCompute = <T extends { meta: object }>(a: T, cpuS: number, inputs: Parameters<typeof stageCompute>[1]): T => ({ ...a, meta: { ...a.meta, compute: stageCompute(cpuS, inputs) } });
    const cross = { loss: { type: 'cross-entropy' } };
    const profiles = [
      predictorProfile(withCompute(lm, 104, { tokenizer: tok })),
      predictorProfile(withCompute(sllm(250_626, cross), 267, { tokenizer: tok, svae })),
      predictorProfile(withCompute({ ...lm, stage: 'lm-compute' }, 591, { tokenizer: tok })),
    ];
    const r = matchingReport(profiles, 'lm');
    expect(r.lines[0]).toBe('lm (token-lm): 248,000 parameters (x1.00 lm), trained with cross-entropy, 108 CPU s to train (itself 104, tok 4)');
    expect(r.lines[1]).toBe('sllm (sllm): 250,626 parameters (x1.01 lm), trained with cross-entropy, 597 CPU s to train (svae 326, itself 267, tok 4)');
    expect(r.warnings).toEqual([
      'warning: sllm took 597 CPU s to train (with the stages it builds on), lm 108: x5.53, more than 25% apart: their PPLs are not compute-matched (within 25% of sllm: lm-compute)',
      'warning: lm-compute took 595 CPU s to train (with the stages it builds on), lm 108: x5.51, more than 25% apart: their PPLs are not compute-matched (within 25% of lm-compute: sllm)',
    ]);
    // Within 25%: no warning; an artifact from before costs were recorded: nothing printed or compared.
    const close = [predictorProfile(withCompute(lm, 100, {})), predictorProfile(withCompute(sllm(250_626, cross), 125, {}))];
    expect(matchingReport(close, 'lm').warnings).toEqual([]);
    expect(matchingReport([predictorProfile(lm), predictorProfile(withCompute(sllm(250_626, cross), 999, {}))], 'lm')).toEqual({
      lines: ['lm (token-lm): 248,000 parameters (x1.00 lm), trained with cross-entropy', 'sllm (sllm): 250,626 parameters (x1.01 lm), trained with cross-entropy, 999 CPU s to train (itself 999)'],
      warnings: [],
    });
  });

  test('where every stage counted its FLOPs the predictors are compared by them (whatever the CPU seconds say), their CPU seconds beside', () => {
    const counted = (cpuS: number, flops: number) => ({ wallS: cpuS, backend: 'native', flops });
    const tok = { stage: 'tok', kind: 'tokenizer' as const, hash: 'h-tok', dir: '/x', files: {}, meta: { compute: stageCompute(4, {}, counted(4, 0)) }, createdAt: '' };
    const svae = { ...tok, stage: 'svae', kind: 'svae' as const, hash: 'h-svae', meta: { compute: stageCompute(326, { tokenizer: tok }, counted(326, 1.52e13)) } };
    const cross = { loss: { type: 'cross-entropy' } };
    const withCompute = <T extends { meta: object }>(a: T, cpuS: number, flops: number, inputs: Parameters<typeof stageCompute>[1]): T => ({ ...a, meta: { ...a.meta, compute: stageCompute(cpuS, inputs, counted(cpuS, flops)) } });
    // lm-compute's 404 CPU s are 32% short of the SLLM's 597 (it ran on one kernel thread, say), its FLOPs 5% short: matched.
    const profiles = [
      predictorProfile(withCompute(lm, 104, 5e12, { tokenizer: tok })),
      predictorProfile(withCompute(sllm(250_626, cross), 267, 7.87e12, { tokenizer: tok, svae })),
      predictorProfile(withCompute({ ...lm, stage: 'lm-compute' }, 400, 2.2e13, { tokenizer: tok })),
    ];
    const r = matchingReport(profiles, 'lm');
    expect(r.lines[1]).toBe('sllm (sllm): 250,626 parameters (x1.01 lm), trained with cross-entropy, 23.1 TFLOP to train (svae 15.2 TFLOP, itself 7.87 TFLOP, tok 0 FLOP; 597 CPU s)');
    expect(r.warnings).toEqual([
      'warning: sllm took 23.1 TFLOP to train (with the stages it builds on), lm 5.00 TFLOP: x4.61, more than 25% apart: their PPLs are not compute-matched (within 25% of sllm: lm-compute)',
      'warning: lm-compute took 22.0 TFLOP to train (with the stages it builds on), lm 5.00 TFLOP: x4.40, more than 25% apart: their PPLs are not compute-matched (within 25% of lm-compute: sllm)',
    ]);
    // Without the compute-matched token LM: how to add one (FLOPs counted; the CPU-seconds and webgpu cases below say nothing of it).
    expect(matchingReport(profiles.filter((x) => x.stage !== 'lm-compute'), 'lm').warnings).toEqual([
      'warning: sllm took 23.1 TFLOP to train (with the stages it builds on), lm 5.00 TFLOP: x4.61, more than 25% apart: their PPLs are not compute-matched (a token-lm stage with input flopsOf: sllm would be)',
    ]);
  });

  test('on webgpu the predictors are compared by wall seconds (the host\'s CPU seconds are dispatch and waiting), on the CPU by CPU seconds', () => {
    const gpu = (wallS: number) => ({ wallS, backend: 'webgpu' });
    const tok = { stage: 'tok', kind: 'tokenizer' as const, hash: 'h-tok', dir: '/x', files: {}, meta: { compute: stageCompute(2, {}, gpu(2)) }, createdAt: '' };
    const svae = { ...tok, stage: 'svae', kind: 'svae' as const, hash: 'h-svae', meta: { compute: stageCompute(90, { tokenizer: tok }, gpu(40)) } };
    const cross = { loss: { type: 'cross-entropy' } };
    // CPU seconds alike (100 vs 104), wall seconds 2.5x apart: on a GPU it is the wall seconds that count.
    const lmGpu = { ...lm, meta: { ...lm.meta, compute: stageCompute(98, { tokenizer: tok }, gpu(38)) } };
    const sllmGpu = { ...sllm(250_626, cross), meta: { ...sllm(250_626, cross).meta, compute: stageCompute(12, { tokenizer: tok, svae }, gpu(55)) } };
    const r = matchingReport([predictorProfile(lmGpu), predictorProfile(sllmGpu)], 'lm');
    expect(r.lines).toEqual([
      'lm (token-lm): 248,000 parameters (x1.00 lm), trained with cross-entropy, 40 wall s on webgpu to train (itself 38, tok 2)',
      'sllm (sllm): 250,626 parameters (x1.01 lm), trained with cross-entropy, 97 wall s on webgpu to train (itself 55, svae 40, tok 2)',
    ]);
    expect(r.warnings).toEqual(['warning: sllm took 97 wall s on webgpu to train (with the stages it builds on), lm 40: x2.42, more than 25% apart: their PPLs are not compute-matched']);
    // The same record from the native backend: CPU seconds, and matched.
    const onCpu = <T extends { meta: { compute: StageCompute } }>(a: T): T => ({ ...a, meta: { ...a.meta, compute: { ...a.meta.compute, backend: 'native' } } });
    expect(matchingReport([predictorProfile(onCpu(lmGpu)), predictorProfile(onCpu(sllmGpu))], 'lm').warnings).toEqual([]);
  });

  test('no baseline among the predictors: compared with the first; a single predictor: nothing to say', () => {
    const r = matchingReport([predictorProfile(sllm(100, { loss: { type: 'focal', gamma: 2 } })), predictorProfile(lm)], 'svae');
    expect(r.warnings[0]).toBe('warning: lm trained with cross-entropy, sllm with focal (gamma 2): their PPLs compare different objectives');
    expect(matchingReport([predictorProfile(lm)], 'lm')).toEqual({ lines: [], warnings: [] });
  });
});

describe('the shipped comparisons are matched', () => {
  const profiles = (file: string): PredictorProfile[] => plannedProfiles(loadPipeline(join(repoRoot, file), STAGES).config);

  test.each(['configs/quickstart.yaml', 'configs/paper/sllm-vs-token.yaml', 'configs/paper/sllm-vs-token-gpu.yaml'])('%s: every SLLM within 10% of the token LM\'s parameters, all with cross-entropy', (file) => {
    const p = profiles(file);
    expect(p.filter((x) => x.kind === 'sllm').length).toBeGreaterThan(0);
    expect(p.map((x) => x.objective)).toEqual(p.map(() => 'cross-entropy'));
    expect(plannedBaseline(loadPipeline(join(repoRoot, file), STAGES).config)).toBe('lm');
    expect(matchingReport(p, 'lm').warnings).toEqual([]);
  }, 60_000);

  test.each([
    ['configs/paper/sllm-vs-token-noise.yaml', ['sllm-h1', 'sllm-noise05', 'sllm-noise1', 'sllm-vae']],
    ['configs/paper/sllm-vs-token-vae.yaml', ['sllm-h1', 'sllm-vae']],
    ['configs/paper/sllm-vs-token-calm.yaml', ['sllm-h1', 'sllm-vae', 'sllm-calm']],
  ])('%s: the SLLM variants match the plain SLLM (its baseline) and the token LMs, all with cross-entropy', (file, sllms) => {
    const p = profiles(file);
    expect(p.filter((x) => x.kind === 'sllm').map((x) => x.stage).sort()).toEqual([...sllms].sort());
    const params = Object.fromEntries(p.filter((x) => x.kind === 'sllm').map((x) => [x.stage, x.params]));
    const variational = ['sllm-vae', 'sllm-calm'];
    expect(new Set(sllms.filter((s) => !variational.includes(s)).map((s) => params[s])).size).toBe(1);
    if (params['sllm-calm'] !== undefined) expect(params['sllm-calm']).toBe(params['sllm-vae']); // the dropouts add no parameter
    // The VAE's SentenceVAE (counted in its SLLM) has mean and log-variance heads, Linear(128, 128) each.
    expect(params['sllm-vae']! - params['sllm-h1']!).toBe(2 * (128 * 128 + 128));
    expect(p.map((x) => x.objective)).toEqual(p.map(() => 'cross-entropy'));
    expect(plannedBaseline(loadPipeline(join(repoRoot, file), STAGES).config)).toBe('sllm-h1');
    expect(matchingReport(p, 'sllm-h1').warnings).toEqual([]);
  }, 60_000);
});
