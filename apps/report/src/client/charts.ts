import uPlot from 'uplot';
import { formatCompact } from '../shared/flatten.js';
import { h } from './dom.js';

const live: { destroy(): void }[] = [];

/** Destroys the charts of the previous render (uPlot and ECharts keep window listeners until destroyed). */
export function destroyCharts(): void {
  for (const chart of live.splice(0)) chart.destroy();
}

/** Registers a chart of another library to be destroyed with the others at the next render. */
export function trackChart(chart: { destroy(): void }): void {
  live.push(chart);
}

export interface LineSeries {
  label: string;
  color: string;
  /** Points aligned with the chart's x array (null = no point). */
  y: (number | null)[];
  width?: number;
  /** Hidden from the legend (faint raw curves, band edges). */
  legend?: boolean;
}

export interface LineChartSpec {
  x: number[];
  series: LineSeries[];
  xLabel: string;
  yLabel: string;
  log: boolean;
  /** Pixels; default 340. */
  height?: number;
  /** Fill between pairs of series indices (1-based as in uPlot: [upper, lower]). */
  bands?: { upper: number; lower: number; fill: string }[];
  /** x is a count (sentences ahead): ticks on whole numbers only, each point marked. */
  integerX?: boolean;
}

/** Tick steps of a count axis: whole numbers only. */
const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/** A uPlot line chart sized to its container. */
export function lineChart(container: HTMLElement, spec: LineChartSpec): uPlot {
  const width = Math.max(320, container.clientWidth || 800);
  const opts: uPlot.Options = {
    width,
    height: spec.height ?? 340,
    scales: { x: { time: false }, y: spec.log ? { distr: 3 } : {} },
    axes: [
      { label: spec.xLabel, stroke: '#555', grid: { stroke: '#eee' }, ...(spec.integerX ? { incrs: INTEGER_STEPS } : {}) },
      { label: spec.yLabel, stroke: '#555', grid: { stroke: '#eee' }, values: (_u, ticks) => ticks.map((t) => formatCompact(t)) },
    ],
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    series: [
      { label: spec.xLabel },
      ...spec.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: s.width ?? 2,
        spanGaps: true,
        points: { show: spec.integerX === true },
        ...(s.legend === false ? { class: 'no-legend' } : {}),
      })),
    ],
    bands: (spec.bands ?? []).map((b) => ({ series: [b.upper, b.lower] as [number, number], fill: b.fill })),
  };
  const data = [spec.x, ...spec.series.map((s) => (spec.log ? s.y.map((v) => (v !== null && v > 0 ? v : null)) : s.y))];
  const chart = new uPlot(opts, data as uPlot.AlignedData, container);
  hideLegendEntries(chart, spec.series);
  // The instance stays reachable from its container (devtools, browser tests read chart.data).
  Object.defineProperty(container, 'uplot', { value: chart, configurable: true });
  live.push(chart);
  return chart;
}

function hideLegendEntries(chart: uPlot, series: LineSeries[]): void {
  const rows = chart.root.querySelectorAll('.u-legend .u-series');
  series.forEach((s, i) => {
    const row = rows[i + 1];
    if (s.legend === false && row instanceof HTMLElement) row.style.display = 'none';
  });
}

/** A bar chart (uPlot's bars path builder): one bar per label. */
export function barChart(container: HTMLElement, title: string, labels: string[], values: (number | null)[], color: string): uPlot {
  const holder = h('div', { class: 'bar-chart' });
  container.append(holder);
  const opts: uPlot.Options = {
    title,
    width: 300,
    height: 220,
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      {
        stroke: '#555',
        grid: { show: false },
        splits: () => labels.map((_, i) => i),
        values: (_u, splits) => splits.map((i) => shorten(labels[i] ?? '')),
        rotate: labels.length > 3 ? -20 : 0,
        size: 60,
      },
      { stroke: '#555', grid: { stroke: '#eee' }, values: (_u, ticks) => ticks.map((t) => formatCompact(t)), size: 60 },
    ],
    legend: { show: false },
    cursor: { show: false },
    series: [{}, { label: title, fill: color, stroke: color, paths: uPlot.paths.bars!({ size: [0.6, 60] }), points: { show: false } }],
  };
  const chart = new uPlot(opts, [labels.map((_, i) => i), values] as uPlot.AlignedData, holder);
  live.push(chart);
  return chart;
}

function shorten(label: string): string {
  const last = label.split('/').pop() ?? label;
  return last.length > 18 ? `${last.slice(0, 17)}…` : last;
}
