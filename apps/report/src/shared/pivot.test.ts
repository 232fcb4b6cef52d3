import { describe, expect, it } from 'vitest';
import { pivot, pivotTable } from './pivot.js';
import { paperTable, percentChange, SVAE_COLUMNS } from './paper.js';
import type { RunRow } from './types.js';

const run = (id: string, layers: number, lr: number, ppl: number | undefined, extra: Record<string, number> = {}): RunRow => ({
  id,
  experiment: 'e',
  runId: id,
  ok: true,
  config: { 'model.layers': layers, 'train.lr': lr },
  eval: { ...(ppl === undefined ? {} : { ppl }), ...extra },
});

describe('pivot', () => {
  it('averages the cell field over runs sharing a row and column value', () => {
    const rows = [run('a', 2, 0.001, 40), run('b', 2, 0.001, 42), run('c', 4, 0.001, 38), run('d', 4, 0.0003, undefined), run('e', 2, 0.0003, 45)];
    const spec = { rows: 'config.model.layers', cols: 'train.lr', cell: 'eval.ppl' };
    const p = pivot(rows, spec);
    expect(p.rowValues).toEqual([2, 4]);
    expect(p.colValues).toEqual([0.0003, 0.001]);
    expect(p.cells).toEqual([
      [45, 41],
      [undefined, 38],
    ]);
    expect(pivotTable(p, spec).rows).toEqual([
      ['2', '45', '41 (n=2)'],
      ['4', '', '38'],
    ]);
  });

  it('names the stages a cell mixes, and says so in the caption', () => {
    const staged = (id: string, stage: string, seed: number, ppl: number): RunRow => ({ ...run(id, 4, 0.001, ppl), seed, info: { stage, kind: stage } });
    // Two seeds of each model: grouped by seed, each cell averages a token LM with an SLLM; grouped by stage, none.
    const rows = [staged('lm0', 'token-lm', 0, 40), staged('sllm0', 'sllm', 0, 50), staged('lm1', 'token-lm', 1, 42), staged('sllm1', 'sllm', 1, 54)];
    const bySeed = { rows: 'config.model.layers', cols: 'seed', cell: 'eval.ppl' };
    const mixed = pivotTable(pivot(rows, bySeed), bySeed);
    expect(mixed.rows).toEqual([['4', '45 (n=2, mixes sllm, token-lm)', '48 (n=2, mixes sllm, token-lm)']]);
    expect(mixed.caption).toMatch(/a cell marked "mixes" averages runs of different stages/);
    const byStage = { rows: 'info.stage', cols: 'seed', cell: 'eval.ppl' };
    const split = pivotTable(pivot(rows, byStage), byStage);
    expect(split.rows).toEqual([
      ['sllm', '50', '54'],
      ['token-lm', '40', '42'],
    ]);
    expect(split.caption).not.toMatch(/mixes/);
  });
});

describe('paper table', () => {
  it('shows % change against the baseline, bits per byte beside PPL, KV bytes as KB', () => {
    const base = run('token-lm', 4, 0.001, 40, { params: 1000, bits_per_byte: 2.5, tokens_per_s: 100, kv_bytes_per_token: 4096 });
    const cand = run('sllm', 4, 0.001, 44, { params: 900, bits_per_byte: 2, tokens_per_s: 250, kv_bytes_per_token: 1024 });
    const t = paperTable(base, [cand], SVAE_COLUMNS, true);
    expect(t.header).toEqual(['Run', 'Params', 'Δ Params', 'PPL', 'Δ PPL', 'Bits/byte', 'Δ Bits/byte', 'Tokens/s', 'Δ Tokens/s', 'KV KB/token', 'Δ KV KB/token']);
    expect(t.rows).toEqual([
      ['token-lm (baseline)', '1000', '', '40', '', '2.5', '', '100', '', '4', ''],
      ['sllm', '900', '-10.0%', '44', '+10.0%', '2', '-20.0%', '250', '+150.0%', '1', '-75.0%'],
    ]);
    expect(percentChange(1, 0)).toBeUndefined();
  });
});
