import { describe, expect, test } from 'vitest';
import type { Artifact } from '../stages/types.js';
import { COMPUTE_KEY, computeOf, stageCompute, totalCpuSeconds } from './compute.js';

const artifact = (stage: string, hash: string, compute?: unknown): Artifact => ({
  stage,
  kind: 'svae',
  hash,
  dir: '/x',
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
    expect(totalCpuSeconds(sllm)).toBe(601);
    expect(sllm.complete).toBe(true);
    // An eval over both predictors: the shared tokenizer still counts once.
    const lm = artifact('lm', 'h-lm', stageCompute(108, { tokenizer: tok }));
    expect(totalCpuSeconds(stageCompute(10, { models: [lm, artifact('sllm', 'h-sllm', sllm)] }))).toBe(10 + 108 + 4 + 330 + 267);
  });

  test('an input cached before costs were recorded makes the total a lower bound', () => {
    const c = stageCompute(50, { tokenizer: artifact('tok', 'h-tok'), svae: artifact('svae', 'h-svae', stageCompute(30, {})) });
    expect(c.complete).toBe(false);
    expect(totalCpuSeconds(c)).toBe(80);
    expect(computeOf(artifact('x', 'h', c))).toEqual(c);
    expect(computeOf(artifact('x', 'h', { cpu_s: 'many' }))).toBeNull();
    expect(computeOf(artifact('x', 'h'))).toBeNull();
  });
});
