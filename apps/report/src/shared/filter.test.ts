import { describe, expect, it } from 'vitest';
import { compileFilter } from './filter.js';
import type { RunRow } from './types.js';

const stats = (last: number) => ({ count: 1, last, lastStep: 10, min: last, max: last, best: last, bestStep: 10, direction: 'min' as const });
const rows: RunRow[] = [
  { id: 'paper/token-lm', experiment: 'paper', runId: 'token-lm', ok: true, status: 'done', backend: 'wasm', seed: 1, config: { 'model.kind': 'token-lm', 'model.layers': 4 }, eval: { ppl: 45.3 }, metrics: { loss: stats(3.2) } },
  { id: 'paper/sllm-h2', experiment: 'paper', runId: 'sllm-h2', ok: true, status: 'running', backend: 'native', seed: 2, info: { stage: 'sllm' }, config: { 'model.kind': 'sllm', 'model.layers': 2 }, eval: { ppl: 48.7 }, metrics: { loss: stats(3.5) } },
  { id: 'broken/x', experiment: 'broken', runId: 'x', ok: false, error: 'meta.json: missing' },
];
const ids = (text: string) => rows.filter(compileFilter(text)).map((r) => r.id);

describe('compileFilter', () => {
  it('matches plain text against names, status and config values', () => {
    expect(ids('')).toEqual(rows.map((r) => r.id));
    expect(ids('SLLM')).toEqual(['paper/sllm-h2']);
    expect(ids('running')).toEqual(['paper/sllm-h2']);
    expect(ids('error')).toEqual(['broken/x']);
  });

  it('evaluates comparisons over config, eval, metrics and run fields', () => {
    expect(ids('ppl < 46')).toEqual(['paper/token-lm']);
    expect(ids('eval.ppl >= 46 && model.layers == 2')).toEqual(['paper/sllm-h2']);
    expect(ids('config.model.kind == "token-lm" || status = running')).toEqual(['paper/token-lm', 'paper/sllm-h2']);
    expect(ids('loss.last > 3.3')).toEqual(['paper/sllm-h2']);
    expect(ids('backend == wasm')).toEqual(['paper/token-lm']);
    expect(ids('not (seed > 1) and name ~ paper')).toEqual(['paper/token-lm']);
    expect(ids('status != error')).toEqual(['paper/token-lm', 'paper/sllm-h2']);
    expect(ids('info.stage == sllm && loss.best < 4')).toEqual(['paper/sllm-h2']);
  });

  it('reports syntax errors with their column', () => {
    expect(() => compileFilter('ppl <')).toThrow('expression ends too early');
    expect(() => compileFilter('(ppl < 3')).toThrow('missing ")" for "(" at column 1');
    expect(() => compileFilter('ppl < 3 $')).toThrow('unexpected "$" at column 9');
  });
});
