import type { RunInfoOk } from '@sentencelab/runs';
import { describe, expect, test } from 'vitest';
import { groupPoints, stageConfigView } from './points.js';

const TOK = { kind: 'tokenizer' };
const SVAE = { kind: 'svae', inputs: { tokenizer: 'tok' }, model: { dModel: 8 } };
const SLLM = { kind: 'sllm', inputs: { tokenizer: 'tok', svae: 'svae' } };
const OTHER = { kind: 'svae', inputs: { tokenizer: 'tok' }, model: { dModel: 8, variational: true } };

function config(stages: Record<string, unknown>, seed = 0, data: unknown = { source: { type: 'brown' } }) {
  return { name: 'x', seed, backend: 'auto', runsDir: '/runs', data, stages };
}

describe('stageConfigView', () => {
  test('seed, backend, data and the sections of the stage and of every stage it builds on; nothing else', () => {
    const c = config({ tok: TOK, svae: SVAE, sllm: SLLM, other: OTHER, eval: { kind: 'eval', inputs: { models: ['sllm', 'other'] } } }, 3);
    expect(stageConfigView(c, 'sllm')).toEqual({ seed: 3, backend: 'auto', data: { source: { type: 'brown' } }, stages: { sllm: SLLM, svae: SVAE, tok: TOK } });
    expect(stageConfigView(c, 'tok')).toEqual({ seed: 3, backend: 'auto', data: { source: { type: 'brown' } }, stages: { tok: TOK } });
  });

  test('a config without the stage is taken whole, less runsDir', () => {
    const { runsDir: _r, ...rest } = config({ tok: TOK });
    expect(stageConfigView(config({ tok: TOK }), 'svae')).toEqual(rest);
  });
});

describe('groupPoints', () => {
  let started = 0;
  const run = (c: unknown) => ({ config: c, meta: { startedAt: new Date(Date.UTC(2026, 11, 7, 0, started++)).toISOString() } }) as unknown as RunInfoOk;

  test('runs of a stage whose configs differ only in stages it does not read are one point; a change upstream of it is another', () => {
    const runs = [
      run(config({ tok: TOK, svae: SVAE, sllm: SLLM, other: OTHER }, 0)),
      run(config({ tok: TOK, svae: SVAE, sllm: SLLM }, 1)),
      run(config({ tok: TOK, svae: { ...SVAE, model: { dModel: 16 } }, sllm: SLLM }, 0)),
    ];
    const points = groupPoints(runs, 'sllm', 'sllm');
    expect(points.map((p) => p.runs.length)).toEqual([2, 1]);
    expect(points.map((p) => p.label)).toEqual(['model.dModel=8', 'model.dModel=16']);
  });
});
