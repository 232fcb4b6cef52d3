import { describe, expect, test } from 'vitest';
import type { Artifact } from '../stages/types.js';
import { commonMeasure, COMPUTE_KEY, computeMeasure, computeOf, flopsWithUpstream, stageCompute, totalCost } from './compute.js';

const artifact = (stage: string, hash: string, compute?: unknown): Artifact => ({
  stage,
  kind: 'svae',
  hash,
  dir: `/cache/${hash}`,
  files: {},
  meta: compute === undefined ? {} : { [COMPUTE_KEY]: compute },
  createdAt: '2026-12-05T00:00:00Z',
});

describe('training compute', () => {
  test('a stage counts its own CPU seconds and each stage upstream once, however many inputs share it', () => {
    const tok = artifact('tok', 'h-tok', stageCompute(4, {}));
    const svae = artifact('svae', 'h-svae', stageCompute(330, { tokenizer: tok }));
    const sllm = stageCompute(267, { tokenizer: tok, svae });
    expect(sllm.upstream).toEqual({ 'h-tok': { stage: 'tok', cpu_s: 4 }, 'h-svae': { stage: 'svae', cpu_s: 330 } });
    expect(totalCost(sllm)).toBe(601);
    expect(sllm.complete).toBe(true);
    // An eval over both predictors: the shared tokenizer still counts once.
    const lm = artifact('lm', 'h-lm', stageCompute(108, { tokenizer: tok }));
    expect(totalCost(stageCompute(10, { models: [lm, artifact('sllm', 'h-sllm', sllm)] }))).toBe(10 + 108 + 4 + 330 + 267);
  });

  test('an input cached before costs were recorded makes the total a lower bound', () => {
    const c = stageCompute(50, { tokenizer: artifact('tok', 'h-tok'), svae: artifact('svae', 'h-svae', stageCompute(30, {})) });
    expect(c.complete).toBe(false);
    expect(totalCost(c)).toBe(80);
    expect(computeOf(artifact('x', 'h', c))).toEqual(c);
    expect(computeOf(artifact('x', 'h', { cpu_s: 'many' }))).toBeNull();
    expect(computeOf(artifact('x', 'h', { ...c, flops: 'lots' }))).toBeNull();
    expect(computeOf(artifact('x', 'h'))).toBeNull();
  });

  test('on a GPU backend compute is wall seconds: every stage upstream must have run there too', () => {
    const gpu = (wallS: number) => ({ wallS, backend: 'webgpu' });
    const tok = artifact('tok', 'h-tok', stageCompute(4, {}, gpu(5)));
    const svae = artifact('svae', 'h-svae', stageCompute(300, { tokenizer: tok }, gpu(40)));
    const sllm = stageCompute(250, { tokenizer: tok, svae }, gpu(60));
    expect(sllm.upstream['h-svae']).toEqual({ stage: 'svae', cpu_s: 300, wall_s: 40, backend: 'webgpu' });
    expect(computeMeasure(sllm)).toBe('device-wall');
    expect(totalCost(sllm, 'device-wall')).toBe(60 + 40 + 5);
    expect(totalCost(sllm)).toBe(250 + 300 + 4);
    // A SentenceVAE trained on the CPU (native) under a GPU-trained SLLM: CPU seconds are the only common measure.
    const cpuSvae = artifact('svae', 'h-svae', stageCompute(300, { tokenizer: tok }, { wallS: 200, backend: 'native' }));
    expect(computeMeasure(stageCompute(250, { tokenizer: tok, svae: cpuSvae }, gpu(60)))).toBe('cpu');
    // So is an upstream cached before wall seconds were recorded.
    expect(computeMeasure(stageCompute(250, { tokenizer: artifact('tok', 'h-tok-old', stageCompute(4, {})), svae }, gpu(60)))).toBe('cpu');
    expect(computeMeasure(stageCompute(9, {}, { wallS: 9, backend: 'native' }))).toBe('cpu');
  });

  test('where every stage counted its FLOPs they measure compute, on any backend; one stage without them and seconds do', () => {
    const tok = artifact('tok', 'h-tok', stageCompute(4, {}, { wallS: 5, backend: undefined, flops: 0 }));
    const svae = artifact('svae', 'h-svae', stageCompute(300, { tokenizer: tok }, { wallS: 40, backend: 'webgpu', flops: 3e12 }));
    const sllm = stageCompute(250, { tokenizer: tok, svae }, { wallS: 200, backend: 'native', flops: 1.5e12 });
    expect(sllm.flops).toBe(1.5e12);
    expect(sllm.upstream['h-svae']).toEqual({ stage: 'svae', flops: 3e12, cpu_s: 300, wall_s: 40, backend: 'webgpu' });
    expect(computeMeasure(sllm)).toBe('flops');
    expect(totalCost(sllm, 'flops')).toBe(4.5e12);
    expect(totalCost(sllm)).toBe(554);
    // A token LM with its FLOPs beside it: compared in FLOPs. One without (cached before they were counted): in CPU seconds.
    const lm = stageCompute(120, { tokenizer: tok }, { wallS: 130, backend: 'native', flops: 1e12 });
    expect(commonMeasure([sllm, lm])).toBe('flops');
    const oldLm = stageCompute(120, { tokenizer: tok }, { wallS: 130, backend: 'native' });
    expect(commonMeasure([sllm, oldLm])).toBe('cpu');
    expect(commonMeasure([stageCompute(9, { svae: artifact('svae', 'h-old', stageCompute(300, {}, { wallS: 40, backend: 'webgpu' })) }, { wallS: 9, backend: 'webgpu', flops: 5 })])).toBe('device-wall');
  });

  test('a FLOP budget is the FLOPs of a stage and every stage it builds on; one that went uncounted is named with its cache folder', () => {
    const tok = artifact('tok', 'h-tok', stageCompute(4, {}, { wallS: 5, backend: undefined, flops: 0 }));
    const svae = artifact('svae', 'h-svae', stageCompute(300, { tokenizer: tok }, { wallS: 40, backend: 'native', flops: 3e12 }));
    const sllm = artifact('sllm', 'h-sllm', stageCompute(250, { tokenizer: tok, svae }, { wallS: 200, backend: 'native', flops: 1.5e12 }));
    expect(flopsWithUpstream(sllm)).toBe(4.5e12);
    const oldSvae = artifact('svae', 'h-old', stageCompute(300, { tokenizer: tok }, { wallS: 40, backend: 'native' }));
    const onOld = artifact('sllm', 'h-sllm2', stageCompute(250, { tokenizer: tok, svae: oldSvae }, { wallS: 200, backend: 'native', flops: 1.5e12 }));
    expect(() => flopsWithUpstream(onOld)).toThrow("stage sllm cannot give a FLOP budget: svae (/cache/h-old) did not count training FLOPs");
    expect(() => flopsWithUpstream(artifact('lm', 'h-lm'))).toThrow('stage lm cannot give a FLOP budget: lm (/cache/h-lm) did not count');
  });
});
