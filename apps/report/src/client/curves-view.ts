import uPlot from 'uplot';
import { debiasedEma } from '../shared/ema.js';
import { knownFields } from '../shared/fields.js';
import { aggregateCurves, seedGroupsOf } from '../shared/seed-groups.js';
import type { MetricsPayload, RunRow } from '../shared/types.js';
import { lineChart, type LineSeries } from './charts.js';
import { h, PALETTE, replaceChildren, select, withAlpha } from './dom.js';
import type { AppState, CurveOptions, RunDataCache } from './state.js';

interface Plotted {
  label: string;
  color: string;
  x: number[];
  y: (number | null)[];
  raw?: (number | null)[];
  band?: { lo: number[]; hi: number[] };
}

/** Metric picker, x axis, log scale, smoothing, seed grouping, then one uPlot chart. */
const MAX_CURVES = 40;

export async function renderCurves(
  panel: HTMLElement,
  state: AppState,
  selected: RunRow[],
  cache: RunDataCache,
  update: (change: (s: AppState) => void) => void,
): Promise<void> {
  if (selected.length === 0) {
    replaceChildren(panel, h('p', { class: 'hint' }, 'Select runs in the table to plot their curves.'));
    return;
  }
  // Each run's metrics are one request; past a few dozen curves a chart stops being readable anyway.
  const runs = selected.slice(0, MAX_CURVES);
  const metrics = knownFields(runs).metrics;
  const opts = state.curve;
  const metric = metrics.includes(opts.metric) ? opts.metric : (metrics.find((m) => /loss/.test(m)) ?? metrics[0] ?? '');
  const set = (change: (c: CurveOptions) => void) => update((s) => change(s.curve));
  const smoothingLabel = h('span', { class: 'value' }, opts.smoothing.toFixed(2));
  const smoothing = h('input', { type: 'range', id: 'smoothing', min: 0, max: 0.99, step: 0.01, value: opts.smoothing });
  smoothing.addEventListener('input', () => (smoothingLabel.textContent = Number(smoothing.value).toFixed(2)));
  smoothing.addEventListener('change', () => set((c) => (c.smoothing = Number(smoothing.value))));
  const checkbox = (id: string, checked: boolean, label: string, onChange: (v: boolean) => void) => {
    const box = h('input', { type: 'checkbox', id, checked });
    box.addEventListener('change', () => onChange(box.checked));
    return h('label', {}, box, ` ${label}`);
  };
  const controls = h(
    'div',
    { class: 'controls' },
    h('label', {}, 'metric ', select(metrics.map((m) => ({ value: m })), metric, (v) => set((c) => (c.metric = v)), { id: 'curve-metric' })),
    h(
      'label',
      {},
      'x ',
      select(
        [
          { value: 'step', label: 'step' },
          { value: 'wallTime', label: 'wall time (s)' },
        ],
        opts.x,
        (v) => set((c) => (c.x = v === 'wallTime' ? 'wallTime' : 'step')),
        { id: 'curve-x' },
      ),
    ),
    checkbox('curve-log', opts.log, 'log scale', (v) => set((c) => (c.log = v))),
    h('label', {}, 'smoothing ', smoothing, smoothingLabel),
    checkbox('curve-group-seeds', opts.groupSeeds, 'group seeds', (v) => set((c) => (c.groupSeeds = v))),
    select(
      [
        { value: 'minmax', label: 'min/max band' },
        { value: 'std', label: '±1 std band' },
      ],
      opts.band,
      (v) => set((c) => (c.band = v === 'std' ? 'std' : 'minmax')),
      { id: 'curve-band', disabled: !opts.groupSeeds },
    ),
  );
  const chartHolder = h('div', { class: 'chart', id: 'curve-chart' });
  const note = selected.length > runs.length ? h('p', { class: 'hint' }, `Plotting the first ${runs.length} of ${selected.length} selected runs.`) : null;
  replaceChildren(panel, controls, note, chartHolder);
  if (!metric) {
    chartHolder.append(h('p', { class: 'hint' }, 'The selected runs have not logged any metric yet.'));
    return;
  }
  const payloads = await Promise.all(runs.map((r) => cache.metricsOf(r)));
  const plotted = plotCurves(runs, payloads, metric, opts);
  drawCurves(chartHolder, plotted, metric, opts);
}

function plotCurves(runs: RunRow[], payloads: MetricsPayload[], metric: string, opts: CurveOptions): Plotted[] {
  const byId = new Map(runs.map((r, i) => [r.id, { row: r, payload: payloads[i]! }]));
  const groups = opts.groupSeeds ? seedGroupsOf(runs).map((g) => g.map((r) => r.id)) : runs.map((r) => [r.id]);
  const smooth = (y: (number | null)[]) => (opts.smoothing > 0 ? debiasedEma(y, opts.smoothing) : y);
  return groups.flatMap((ids, gi): Plotted[] => {
    const color = PALETTE[gi % PALETTE.length]!;
    const curves = ids.map((id) => {
      const s = byId.get(id)!.payload.series[metric];
      return s ? sortedUnique(s.step, s.wallTime, s.value) : { step: [], wallTime: [], value: [] };
    });
    if (ids.length === 1) {
      const c = curves[0]!;
      const y = smooth(c.value);
      return c.step.length === 0 ? [] : [{ label: ids[0]!, color, x: opts.x === 'step' ? c.step : c.wallTime, y, ...(opts.smoothing > 0 ? { raw: c.value } : {}) }];
    }
    const agg = aggregateCurves(curves.map((c) => ({ x: c.step, y: smooth(c.value) })), opts.band);
    const wall = aggregateCurves(curves.map((c) => ({ x: c.step, y: c.wallTime })), 'minmax');
    const wallAt = new Map(wall.x.map((x, i) => [x, wall.mean[i]!]));
    const x = opts.x === 'step' ? agg.x : agg.x.map((s) => wallAt.get(s) ?? s);
    const shortest = ids.reduce((a, b) => (b.length < a.length ? b : a));
    const label = `${shortest} (mean of ${ids.length} seeds)`;
    return [{ label, color, x, y: agg.mean, band: { lo: agg.lo, hi: agg.hi } }];
  });
}

/** Curves sorted by step with one point per step (the last logged wins). */
function sortedUnique(step: number[], wallTime: number[], value: (number | null)[]) {
  const byStep = new Map<number, number>();
  step.forEach((s, i) => byStep.set(s, i));
  const order = [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([, i]) => i);
  return { step: order.map((i) => step[i]!), wallTime: order.map((i) => wallTime[i]!), value: order.map((i) => value[i] ?? null) };
}

function drawCurves(holder: HTMLElement, plotted: Plotted[], metric: string, opts: CurveOptions): void {
  if (plotted.length === 0) {
    holder.append(h('p', { class: 'hint' }, `None of the selected runs logged "${metric}".`));
    return;
  }
  const tables: uPlot.AlignedData[] = plotted.map((p) => {
    const cols: (number | null)[][] = [p.y];
    if (p.raw) cols.push(p.raw);
    if (p.band) cols.push(p.band.hi, p.band.lo);
    return [p.x, ...cols] as uPlot.AlignedData;
  });
  const joined = uPlot.join(tables);
  const series: LineSeries[] = [];
  const bands: { upper: number; lower: number; fill: string }[] = [];
  let col = 1;
  for (const p of plotted) {
    series.push({ label: p.label, color: p.color, y: joined[col++] as (number | null)[] });
    if (p.raw) series.push({ label: `${p.label} (raw)`, color: withAlpha(p.color, 0.25), y: joined[col++] as (number | null)[], width: 1, legend: false });
    if (p.band) {
      const upper = series.length + 1;
      series.push({ label: `${p.label} (hi)`, color: withAlpha(p.color, 0.3), y: joined[col++] as (number | null)[], width: 1, legend: false });
      series.push({ label: `${p.label} (lo)`, color: withAlpha(p.color, 0.3), y: joined[col++] as (number | null)[], width: 1, legend: false });
      bands.push({ upper, lower: upper + 1, fill: withAlpha(p.color, 0.15) });
    }
  }
  lineChart(holder, {
    x: joined[0] as number[],
    series,
    bands,
    xLabel: opts.x === 'step' ? 'step' : 'wall time (s)',
    yLabel: metric,
    log: opts.log,
  });
}
