import { spreadBase, storedSpread } from '@sentencelab/runs/eval-keys';
import { knownFields } from '../shared/fields.js';
import { formatNumber, formatValue, formatWithSpread } from '../shared/flatten.js';
import { mixesStages, pivot, pivotTable, type PivotSpec } from '../shared/pivot.js';
import { exportTable, type ExportFormat, type PlainTable } from '../shared/table-export.js';
import { varyingKeys } from '../shared/config-diff.js';
import type { RunRow } from '../shared/types.js';
import { h, replaceChildren, select } from './dom.js';
import type { AppState } from './state.js';

/** Per-run metric summaries, eval results, and the pivot table with its exports. */
export function renderSummary(panel: HTMLElement, state: AppState, selected: RunRow[], shown: RunRow[], update: (change: (s: AppState) => void) => void): void {
  const pivotRuns = selected.length > 0 ? selected : shown.filter((r) => r.ok);
  replaceChildren(panel, renderPivot(state, pivotRuns, selected.length > 0, update), ...(selected.length > 0 ? metricTables(selected) : [h('p', { class: 'hint' }, 'Select runs to see their metric summaries.')]));
}

function metricTables(runs: RunRow[]): HTMLElement[] {
  const metrics = knownFields(runs).metrics;
  const metricTable = h(
    'table',
    { class: 'grid', id: 'metric-summary' },
    h('thead', {}, h('tr', {}, ...['metric', 'run', 'last', 'min', 'max', 'best', 'best step', 'dir'].map((c) => h('th', {}, c)))),
    h(
      'tbody',
      {},
      metrics.flatMap((m) =>
        runs.map((r, i) => {
          const s = r.metrics?.[m];
          return h(
            'tr',
            { class: i === 0 ? 'first-of-group' : null },
            h('td', { class: 'key' }, i === 0 ? m : ''),
            h('td', {}, r.id),
            ...(s
              ? [s.last, s.min, s.max, s.best].map((v) => h('td', { class: 'num' }, v === undefined ? '-' : formatNumber(v))).concat([h('td', { class: 'num' }, s.bestStep === undefined ? '-' : String(s.bestStep)), h('td', {}, s.direction)])
              : [h('td', { colspan: 6, class: 'missing' }, 'not logged')]),
          );
        }),
      ),
    ),
  );
  // A figure's 95% interval (`52.1 [47.46, 57.02]`) or range (`2100 (1900-2300)`) is shown in its cell, not as rows of its own.
  const allEvalKeys = new Set(runs.flatMap((r) => Object.keys(r.eval ?? {})));
  const evalKeys = [...allEvalKeys].filter((k) => !runs.some((r) => r.eval?.[k] !== undefined && spreadBase(k, r.eval) !== undefined)).sort();
  const evalCell = (r: RunRow, k: string): string => {
    const v = r.eval?.[k];
    const spread = storedSpread(r.eval, k);
    return typeof v === 'number' && spread ? formatWithSpread(v, spread) : formatValue(v ?? null);
  };
  const evalTable = h(
    'table',
    { class: 'grid', id: 'eval-summary' },
    h('thead', {}, h('tr', {}, h('th', {}, 'eval'), ...runs.map((r) => h('th', {}, r.id)))),
    h(
      'tbody',
      {},
      evalKeys.map((k) => h('tr', {}, h('td', { class: 'key' }, k), ...runs.map((r) => h('td', { class: 'num' }, evalCell(r, k))))),
    ),
  );
  return [h('h3', {}, 'Metrics'), metricTable, h('h3', {}, 'Final evaluation (summary.json eval)'), evalKeys.length ? evalTable : h('p', { class: 'hint' }, 'No eval results yet.')];
}

function renderPivot(state: AppState, runs: RunRow[], fromSelection: boolean, update: (change: (s: AppState) => void) => void): HTMLElement {
  const fields = knownFields(runs);
  const axisOptions = [
    ...fields.config.map((k) => ({ value: `config.${k}`, label: k })),
    ...fields.info.map((k) => ({ value: `info.${k}`, label: `(info) ${k}` })),
    ...['experiment', 'backend', 'status', 'seed', 'name'].map((f) => ({ value: f, label: `(run) ${f}` })),
  ];
  const cellOptions = [
    ...fields.eval.map((k) => ({ value: `eval.${k}`, label: `eval ${k}` })),
    ...fields.metrics.flatMap((m) => [...(fields.best.includes(m) ? ['best'] : []), 'last', 'min', 'max'].map((s) => ({ value: `${m}.${s}`, label: `${m} ${s}` }))),
  ];
  const varying = varyingKeys(runs.map((r) => r.config ?? {})).map((k) => `config.${k}`);
  const has = (opts: { value: string }[], v: string) => opts.some((o) => o.value === v);
  const spec: PivotSpec = {
    rows: has(axisOptions, state.pivot.rows) ? state.pivot.rows : (varying[0] ?? 'experiment'),
    cols: has(axisOptions, state.pivot.cols) ? state.pivot.cols : (varying[1] ?? 'seed'),
    cell: has(cellOptions, state.pivot.cell) ? state.pivot.cell : (cellOptions.find((o) => o.value === 'eval.ppl')?.value ?? cellOptions[0]?.value ?? ''),
  };
  const setPivot = (change: (p: AppState['pivot']) => void) =>
    update((s) => {
      s.pivot.rows = spec.rows;
      s.pivot.cols = spec.cols;
      s.pivot.cell = spec.cell;
      change(s.pivot);
      s.pivot.output = '';
    });
  const table = pivot(runs, spec);
  const plain = tableWithLabels(pivotTable(table, spec));
  const output = h('textarea', { id: 'export-output', readonly: true, rows: 8, spellcheck: 'false' });
  output.value = state.pivot.output;
  const download = h('a', { id: 'export-download', class: 'button', hidden: state.pivot.output === '' }, 'Download');
  if (state.pivot.output) {
    const ext = { markdown: 'md', csv: 'csv', latex: 'tex' }[state.pivot.format];
    download.setAttribute('href', URL.createObjectURL(new Blob([state.pivot.output], { type: 'text/plain' })));
    download.setAttribute('download', `pivot.${ext}`);
  }
  const exportButton = (format: ExportFormat, label: string) =>
    h('button', { type: 'button', id: `export-${format}`, onclick: () => update((s) => ((s.pivot.format = format), (s.pivot.output = exportTable(plain, format)))) }, label);
  return h(
    'div',
    { class: 'pivot' },
    h('h3', {}, `Pivot over ${runs.length} ${fromSelection ? 'selected' : 'shown'} runs`),
    h(
      'div',
      { class: 'controls' },
      h('label', {}, 'rows ', select(axisOptions, spec.rows, (v) => setPivot((p) => (p.rows = v)), { id: 'pivot-rows' })),
      h('label', {}, 'columns ', select(axisOptions, spec.cols, (v) => setPivot((p) => (p.cols = v)), { id: 'pivot-cols' })),
      h('label', {}, 'cells ', select(cellOptions, spec.cell, (v) => setPivot((p) => (p.cell = v)), { id: 'pivot-cell' })),
      exportButton('markdown', 'Markdown'),
      exportButton('csv', 'CSV'),
      exportButton('latex', 'LaTeX'),
      download,
    ),
    h(
      'table',
      { class: 'grid', id: 'pivot-table' },
      h('thead', {}, h('tr', {}, ...plain.header.map((c) => h('th', {}, c)))),
      h('tbody', {}, plain.rows.map((r) => h('tr', {}, ...r.map((c, i) => h('td', { class: i === 0 ? 'key' : 'num' }, c))))),
    ),
    // A mean over different models says nothing about either: said under the table, not only in the export's caption.
    ...(mixesStages(table) ? [h('p', { class: 'hint', id: 'pivot-note' }, 'Cells marked "mixes" average runs of different stages (different models): put (info) stage on the rows or columns, or select fewer runs.')] : []),
    output,
  );
}

/** Pivot headers use field names; show config keys without their `config.` prefix. */
function tableWithLabels(t: PlainTable): PlainTable {
  return { ...t, header: t.header.map((c) => c.replace(/config\./g, '')), ...(t.caption ? { caption: t.caption.replace(/config\./g, '') } : {}) };
}

