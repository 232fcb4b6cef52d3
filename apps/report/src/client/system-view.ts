import uPlot from 'uplot';
import { deviceOf } from '../shared/device.js';
import type { MetricsPayload, RunRow } from '../shared/types.js';
import { lineChart, type LineSeries } from './charts.js';
import { h, PALETTE, replaceChildren } from './dom.js';
import type { RunDataCache } from './state.js';

/** The system metrics the trainer logs (`apps/exp`), in display order, with what each one is. */
const SYSTEM_METRICS: { name: string; title: string }[] = [
  { name: 'cpu_pct', title: 'process CPU % (user + system over wall time; > 100 on several threads)' },
  { name: 'rss_mb', title: 'resident set size, MB (tensor data included)' },
  { name: 'heap_mb', title: 'V8 heap used, MB' },
  { name: 'gpu_kernel_ms', title: 'GPU kernel ms of one step (webgpu, timestamp queries)' },
  { name: 'gpu_mb', title: 'GPU buffers the backend holds, MB (webgpu; its pool of free buffers included)' },
  { name: 'gpu_used_mb', title: 'GPU buffers tensors use, MB (webgpu)' },
];
const MAX_RUNS = 40;
/** `sys/cpu_pct`, or `<prefix>sys/cpu_pct` for stages that prefix their metrics. */
const SYSTEM_NAME = /^(.*?)sys\/([^/]+)$/;

/**
 * System metrics of the selected runs as curves (x = step): one chart per metric, one curve per
 * run (and metric prefix); above them each run's backend and its GPU adapter or native kernels (meta.json backendInfo).
 */
export async function renderSystem(panel: HTMLElement, selected: RunRow[], cache: RunDataCache): Promise<void> {
  if (selected.length === 0) {
    replaceChildren(panel, h('p', { class: 'hint' }, 'Select runs in the table to plot their system metrics.'));
    return;
  }
  const runs = selected.slice(0, MAX_RUNS);
  const devices = h(
    'table',
    { id: 'system-devices', class: 'grid' },
    h('thead', {}, h('tr', {}, h('th', {}, 'run'), h('th', {}, 'backend'), h('th', {}, 'device or kernels'))),
    h('tbody', {}, ...runs.map((r) => h('tr', { 'data-run-id': r.id }, h('td', { class: 'name' }, r.id), h('td', {}, r.backend ?? ''), h('td', {}, deviceOf(r))))),
  );
  const charts = h('div', { id: 'system-charts' });
  const note = selected.length > runs.length ? h('p', { class: 'hint' }, `Plotting the first ${runs.length} of ${selected.length} selected runs.`) : null;
  replaceChildren(panel, devices, note, charts);
  const payloads = await Promise.all(runs.map((r) => cache.metricsOf(r)));
  const byMetric = systemSeries(runs, payloads);
  const names = [...SYSTEM_METRICS.map((m) => m.name).filter((n) => byMetric.has(n)), ...[...byMetric.keys()].filter((n) => !SYSTEM_METRICS.some((m) => m.name === n)).sort()];
  if (names.length === 0) {
    charts.append(h('p', { class: 'hint' }, 'None of the selected runs logged system metrics (sys/cpu_pct, sys/rss_mb, sys/heap_mb: every train.logEvery steps).'));
    return;
  }
  for (const name of names) {
    const curves = byMetric.get(name)!;
    const title = SYSTEM_METRICS.find((m) => m.name === name)?.title ?? name;
    const holder = h('div', { class: 'chart system-chart', id: `system-${name}` });
    charts.append(h('h3', {}, `sys/${name}`, h('span', { class: 'hint' }, ` · ${title}`)), holder);
    const joined = uPlot.join(curves.map((c) => [c.x, c.y] as uPlot.AlignedData));
    const series: LineSeries[] = curves.map((c, i) => ({ label: c.label, color: PALETTE[i % PALETTE.length]!, y: joined[i + 1] as (number | null)[] }));
    lineChart(holder, { x: joined[0] as number[], series, xLabel: 'step', yLabel: `sys/${name}`, log: false, height: 220 });
  }
}

interface Curve {
  label: string;
  x: number[];
  y: (number | null)[];
}

/** System metric name (without prefix) -> one curve per run and prefix, sorted by step. */
function systemSeries(runs: RunRow[], payloads: MetricsPayload[]): Map<string, Curve[]> {
  const out = new Map<string, Curve[]>();
  runs.forEach((run, i) => {
    for (const [full, s] of Object.entries(payloads[i]!.series)) {
      const m = SYSTEM_NAME.exec(full);
      if (!m) continue;
      const [, prefix, name] = m as unknown as [string, string, string];
      const order = s.step.map((_, j) => j).sort((a, b) => s.step[a]! - s.step[b]!);
      const curve = { label: prefix ? `${run.id} (${prefix.replace(/\/$/, '')})` : run.id, x: order.map((j) => s.step[j]!), y: order.map((j) => s.value[j] ?? null) };
      const list = out.get(name);
      if (list) list.push(curve);
      else out.set(name, [curve]);
    }
  });
  return out;
}
