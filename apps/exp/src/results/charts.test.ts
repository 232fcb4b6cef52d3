import type { RunInfoOk } from '@sentencelab/runs';
import { describe, expect, test } from 'vitest';
import { FIGURE_CHARTS, figureChart } from './charts.js';
import type { ResultPoint, StageResults } from './points.js';
import { CHART_FONT, chartSvg } from './render.js';

/** A finished run as `listRuns` reads it, holding only what the charts read: its eval results. */
function run(evalResults: Record<string, number>): RunInfoOk {
  return { summary: { formatVersion: 1, updatedAt: '2026-12-04T00:00:00.000Z', metrics: {}, eval: evalResults } } as unknown as RunInfoOk;
}

function point(stage: string, values: Record<string, unknown>, runs: RunInfoOk[]): ResultPoint {
  return { stage, kind: 'svae', label: Object.entries(values).map(([k, v]) => `${k}=${v}`).join(', '), values, runs };
}

const chart = (id: string) => FIGURE_CHARTS.find((c) => c.id === id)!;
type Layer = { mark: unknown; encoding: Record<string, { field?: string; scale?: { type?: string } }> };
const layers = (spec: unknown) => (spec as { layer: Layer[] }).layer;
const values = (spec: unknown) => (spec as { data: { values: Record<string, unknown>[] } }).data.values;
const subtitle = (spec: unknown) => (spec as { title: { subtitle: string[] } }).title.subtitle;

describe('figure charts', () => {
  test('a stage swept over one numeric key is a scaling curve over it, log x when the values span 4x or more', () => {
    const sweep = (widths: number[]): StageResults[] => [
      { stage: 'svae', kind: 'svae', points: widths.map((d, i) => point('svae', { 'model.dModel': d }, [run({ recon_ppl: 100 / (i + 1), recon_ppl_ci_low: 90 / (i + 1), recon_ppl_ci_high: 110 / (i + 1) })])) },
    ];
    const wide = figureChart(chart('recon_ppl'), sweep([64, 128, 256]))!;
    const line = layers(wide.spec)[0]!;
    expect(line.encoding['x']!.field).toBe('x');
    expect(line.encoding['x']!.scale!.type).toBe('log');
    expect(values(wide.spec).map((v) => [v['x'], v['mean'], v['low'], v['high']])).toEqual([
      [64, 100, 90, 110],
      [128, 50, 45, 55],
      [256, 100 / 3, 30, 110 / 3],
    ]);
    expect(subtitle(wide.spec)).toEqual(['one seed', 'whiskers: 95% bootstrap interval over the eval documents']);
    expect(layers(figureChart(chart('recon_ppl'), sweep([64, 128]))!.spec)[0]!.encoding['x']!.scale!.type).toBe('linear');
  });

  test('a width sweep on two corpora: one scaling curve per corpus over the width', () => {
    const points = ['brown', 'sotu'].flatMap((corpus, c) =>
      [64, 256].map((d) => point('svae', { 'data.source.type': corpus, 'model.dModel': d }, [run({ recon_ppl: d / 8 + c })])),
    );
    const spec = figureChart(chart('recon_ppl'), [{ stage: 'svae', kind: 'svae', points }])!.spec;
    expect(layers(spec)[0]!.encoding['x']!.scale!.type).toBe('log');
    expect(values(spec).map((v) => [v['series'], v['x'], v['mean']])).toEqual([
      ['data.source.type="brown"', 64, 8],
      ['data.source.type="brown"', 256, 32],
      ['data.source.type="sotu"', 64, 9],
      ['data.source.type="sotu"', 256, 33],
    ]);
  });

  test('several stages: a bar per point, the baselines beside it; several seeds give the mean and the t interval over them', () => {
    const heads: StageResults[] = ['mse', 'two-tower'].map((stage, i) => ({
      stage,
      kind: 'lcm',
      points: [point(stage, {}, [run({ l2: 1 + i, l2_copy_prev: 3 }), run({ l2: 3 + i, l2_copy_prev: 3 })])],
    }));
    const c = figureChart(chart('l2'), heads)!;
    expect(layers(c.spec)[0]!.mark).toBe('bar');
    expect(layers(c.spec)[0]!.encoding['xOffset']!.field).toBe('series');
    const rows = values(c.spec);
    expect(rows.map((r) => [r['point'], r['series'], r['mean'], r['n']])).toEqual([
      ['mse', 'head', 2, 2],
      ['mse', 'copy-previous baseline', 3, 2],
      ['two-tower', 'head', 3, 2],
      ['two-tower', 'copy-previous baseline', 3, 2],
    ]);
    // 1 and 3: sd sqrt(2), interval 2 ± 12.706 * sqrt(2) / sqrt(2).
    expect(rows[0]!['low']).toBeCloseTo(2 - 12.706, 10);
    expect(rows[0]!['high']).toBeCloseTo(2 + 12.706, 10);
    expect(subtitle(c.spec)).toEqual(['mean over 2 seeds', 'whiskers: 95% interval of the mean over seeds (Student t)']);
    expect(figureChart(chart('ppl'), heads)).toBeUndefined();
  });

  test('one seed of a figure with no interval: whiskers are its range over the timed passes, and the subtitle says so', () => {
    const stages: StageResults[] = [{ stage: 'sllm', kind: 'sllm', points: [point('sllm', {}, [run({ tokens_per_s_ratio: 2.3, tokens_per_s_ratio_min: 2.1, tokens_per_s_ratio_max: 2.6 })])] }];
    const c = figureChart(chart('tokens_per_s_ratio'), stages)!;
    expect(values(c.spec).map((v) => [v['mean'], v['low'], v['high']])).toEqual([[2.3, 2.1, 2.6]]);
    expect(subtitle(c.spec)).toEqual(['one seed', "whiskers: range over the bench's timed passes"]);
  });

  test('the SVG names the bundled font for every text', async () => {
    const c = figureChart(chart('ppl'), [{ stage: 'lm', kind: 'token-lm', points: [point('lm', {}, [run({ ppl: 50 })])] }])!;
    const svg = await chartSvg(c.spec);
    const families = [...svg.matchAll(/font-family="([^"]+)"/g)].map((m) => m[1]);
    expect(families.length).toBeGreaterThan(3);
    expect(new Set(families)).toEqual(new Set([CHART_FONT]));
    expect(svg).toContain('PPL on the shared held-out tokens');
  });
});
