import { formatCompact } from '../shared/flatten.js';
import { axisValue, brushPredicate, defaultMetrics, metricChoices, parallelAxes, type Brush, type ParallelAxis } from '../shared/parallel.js';
import type { RunRow } from '../shared/types.js';
import { h, PALETTE, replaceChildren } from './dom.js';
import { echart } from './echarts.js';
import type { AppState } from './state.js';

/** What ECharts reports when an axis is brushed (the axisAreaSelect action's payload). */
interface AreaSelected {
  parallelAxisId: string;
  intervals: [number, number][];
}

/**
 * Parallel coordinates over the selected runs: one axis per meta (stage, kind) or config key that differs, then the
 * chosen metric fields; one line per run. Dragging along an axis brushes it (ECharts), and the
 * runs table then shows only the runs inside every brushed axis (`state.brush`).
 */
export function renderParallel(
  panel: HTMLElement,
  state: AppState,
  selected: RunRow[],
  update: (change: (s: AppState) => void) => void,
  updateTable: (change: (s: AppState) => void) => void,
): void {
  if (selected.length < 2) {
    replaceChildren(panel, h('p', { class: 'hint' }, 'Select two or more runs in the table to compare them in parallel coordinates.'));
    return;
  }
  const choices = metricChoices(selected);
  const metrics = (state.parallelMetrics ?? defaultMetrics(selected)).filter((m) => choices.includes(m));
  const axes = parallelAxes(selected, metrics);
  const add = h(
    'select',
    { id: 'parallel-add-metric', onchange: (e: Event) => update((s) => (s.parallelMetrics = [...metrics, (e.target as HTMLSelectElement).value])) },
    h('option', { value: '' }, 'add a metric axis…'),
    ...choices.filter((c) => !metrics.includes(c)).map((c) => h('option', { value: c }, c)),
  );
  const chips = metrics.map((m) =>
    h('button', { type: 'button', class: 'axis-chip', 'data-field': m, title: `remove the axis ${m}`, onclick: () => update((s) => (s.parallelMetrics = metrics.filter((x) => x !== m))) }, `${m} ×`),
  );
  const note = h('p', { class: 'hint', id: 'parallel-note' });
  const describe = (brush: Brush) =>
    (note.textContent =
      `${selected.length} runs · ${axes.length} axes (run kind and config keys that differ, then metrics). Drag along an axis to brush it; click the axis to clear. ` +
      (Object.keys(brush).length > 0 ? `${selected.filter(brushPredicate(brush)).length} of ${selected.length} runs in the brush (the table shows only those).` : 'The runs table then shows only the runs inside every brushed axis.'));
  describe(state.brush);
  const holder = h('div', { class: 'chart', id: 'parallel-chart' });
  replaceChildren(panel, h('div', { class: 'controls' }, 'metric axes ', ...chips, add), note, holder);
  if (axes.length === 0) {
    holder.append(h('p', { class: 'hint' }, 'The selected runs have the same config and no metric to compare.'));
    return;
  }
  drawParallel(holder, selected, axes, state.brush, (change) => {
    updateTable(change);
    describe(state.brush);
  });
}

function drawParallel(holder: HTMLElement, runs: RunRow[], axes: ParallelAxis[], brush: Brush, updateTable: (change: (s: AppState) => void) => void): void {
  const chart = echart(holder, 440);
  chart.setOption({
    animation: false,
    parallel: { left: 70, right: 110, top: 70, bottom: 40, parallelAxisDefault: { realtime: false, areaSelectStyle: { width: 24 } } },
    parallelAxis: axes.map((a, dim) => ({
      dim,
      id: a.field,
      name: a.label,
      nameLocation: 'end',
      nameGap: 16,
      nameRotate: axes.length > 6 ? 20 : 0,
      type: a.kind,
      ...(a.kind === 'category' ? { data: a.categories } : { min: 'dataMin', max: 'dataMax', axisLabel: { formatter: (v: number) => formatCompact(v) } }),
    })),
    tooltip: { trigger: 'item', confine: true, formatter: (p: { name: string }) => h('span', {}, p.name) },
    series: [
      {
        type: 'parallel',
        smooth: false,
        inactiveOpacity: 0.06,
        activeOpacity: 1,
        lineStyle: { width: 2, opacity: 0.85 },
        emphasis: { lineStyle: { width: 4 } },
        data: runs.map((r, i) => ({ name: r.id, value: axes.map((a) => axisValue(a, r)), lineStyle: { color: PALETTE[i % PALETTE.length] } })),
      },
    ],
  });
  // Brushes drawn before this render (the panel re-renders on every selection change).
  for (const [field, range] of Object.entries(brush)) {
    if (axes.some((a) => a.field === field)) chart.dispatchAction({ type: 'axisAreaSelect', parallelAxisId: field, intervals: range.intervals });
  }
  chart.on('axisareaselected', (event) => {
    const { parallelAxisId, intervals } = event as unknown as AreaSelected;
    const axis = axes.find((a) => a.field === parallelAxisId);
    if (!axis) return;
    updateTable((s) => {
      const next = { ...s.brush };
      if (intervals.length === 0) delete next[axis.field];
      else if (axis.kind === 'value') next[axis.field] = { kind: 'value', intervals };
      else next[axis.field] = { kind: 'category', values: axis.categories.filter((_, i) => intervals.some(([a, b]) => i >= Math.min(a, b) && i <= Math.max(a, b))), intervals };
      s.brush = next;
    });
  });
}
