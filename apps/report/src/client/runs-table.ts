import type { EvalKey } from '@sentencelab/runs';
import { varyingKeys } from '../shared/config-diff.js';
import { compareField, compareScalars, fieldValue, knownFields } from '../shared/fields.js';
import { compileFilter, type Predicate } from '../shared/filter.js';
import { formatValue } from '../shared/flatten.js';
import { brushPredicate, describeBrush } from '../shared/parallel.js';
import { isSeedKey } from '../shared/seed-groups.js';
import type { RunRow } from '../shared/types.js';
import { h, replaceChildren, select } from './dom.js';
import type { AppState } from './state.js';

export interface Column {
  field: string;
  label: string;
  title?: string;
}

const ROW_LIMIT = 200;
const PREFERRED_EVAL: readonly EvalKey[] = ['params', 'ppl', 'tokens_per_s', 'kv_bytes_per_token', 'l2', 'contrastive_acc', 'roundtrip_l2'];
/** The losses lead the metric columns; the rest follow by name. */
const PREFERRED_METRICS: readonly string[] = ['train/loss', 'val/loss'];

/** `preferred` in their order where present, then the rest of `present` in its own. */
const preferredFirst = (preferred: readonly string[], present: readonly string[]): string[] => [...preferred.filter((k) => present.includes(k)), ...present.filter((k) => !preferred.includes(k))];

/** Status, name, the config keys that vary (up to 6), seed, eval numbers (up to 6), metrics' last values (up to 4, the losses first, system metrics left out). */
export function tableColumns(rows: readonly RunRow[]): Column[] {
  const ok = rows.filter((r) => r.ok);
  const fields = knownFields(ok);
  const config = varyingKeys(ok.map((r) => r.config ?? {}))
    .filter((k) => !isSeedKey(k))
    .slice(0, 6);
  const evalKeys = preferredFirst(PREFERRED_EVAL, fields.eval).slice(0, 6);
  const info = varyingKeys(ok.map((r) => r.info ?? {})).slice(0, 3);
  return [
    { field: 'status', label: 'status' },
    { field: 'name', label: 'run' },
    ...info.map((k) => ({ field: `info.${k}`, label: k, title: `meta.json backendInfo.${k}` })),
    ...config.map((k) => ({ field: `config.${k}`, label: k, title: `config ${k}` })),
    { field: 'seed', label: 'seed' },
    ...evalKeys.map((k) => ({ field: `eval.${k}`, label: k, title: `summary eval.${k}` })),
    // System metrics (sys/cpu_pct...) sort first but say little in a table: they have their own tab.
    ...preferredFirst(
      PREFERRED_METRICS,
      fields.metrics.filter((m) => !/(^|\/)sys\//.test(m)),
    )
      .slice(0, 4)
      .map((m) => ({ field: `${m}.last`, label: `${m} (last)`, title: `last logged ${m}` })),
  ];
}

/** Filtered and sorted rows; an invalid expression keeps every row and reports why. */
export function visibleRows(state: AppState): { rows: RunRow[]; filterError?: string } {
  let predicate: Predicate;
  let filterError: string | undefined;
  try {
    predicate = compileFilter(state.filter);
  } catch (error) {
    predicate = () => true;
    filterError = (error as Error).message;
  }
  const inBrush = brushPredicate(state.brush);
  const rows = state.runs.filter((r) => predicate(r) && inBrush(r));
  const { field, desc } = state.sort;
  const missing = (r: RunRow) => {
    const v = fieldValue(r, field);
    return v === undefined || v === null;
  };
  rows.sort((a, b) => {
    const ma = missing(a);
    const mb = missing(b);
    if (ma !== mb) return ma ? 1 : -1;
    const c = compareField(a, b, field);
    return (desc ? -c : c) || (a.id < b.id ? -1 : 1);
  });
  return filterError === undefined ? { rows } : { rows, filterError };
}

export interface RunsTableHandlers {
  update(change: (s: AppState) => void, opts?: { table?: boolean; panel?: boolean }): void;
}

/** Controls (filter, group by, selection) are built once so the filter box keeps focus while typing. */
export class RunsTable {
  readonly el: HTMLElement;
  private readonly filterInput: HTMLInputElement;
  private readonly filterMessage = h('span', { class: 'filter-error', id: 'filter-error' });
  private readonly brushNote = h('div', { class: 'brush-note', id: 'brush-note' });
  private readonly groupHolder = h('span');
  private readonly counts = h('span', { class: 'counts', id: 'run-counts' });
  private readonly tableHolder = h('div', { class: 'table-wrap' });
  /** Rows put in the DOM before "Show all": a 1,000-row table costs more layout than it is worth at first sight. */
  private rowLimit = ROW_LIMIT;

  constructor(
    private readonly state: AppState,
    private readonly handlers: RunsTableHandlers,
  ) {
    this.filterInput = h('input', {
      type: 'search',
      id: 'filter',
      placeholder: 'filter: text, or an expression like  ppl < 50 && model.layers >= 2',
      value: state.filter,
      spellcheck: 'false',
    });
    this.filterInput.addEventListener('input', () => handlers.update((s) => (s.filter = this.filterInput.value)));
    this.el = h(
      'section',
      { class: 'runs' },
      h(
        'div',
        { class: 'controls' },
        this.filterInput,
        this.groupHolder,
        h('button', { type: 'button', id: 'select-visible', onclick: () => this.selectVisible() }, 'Select shown'),
        h('button', { type: 'button', id: 'clear-selection', onclick: () => handlers.update((s) => s.selected.clear()) }, 'Clear'),
        this.counts,
      ),
      this.filterMessage,
      this.brushNote,
      this.tableHolder,
    );
  }

  private selectVisible(): void {
    const { rows } = visibleRows(this.state);
    this.handlers.update((s) => rows.filter((r) => r.ok && !r.queueOnly).forEach((r) => s.selected.add(r.id)));
  }

  render(): void {
    const state = this.state;
    const { rows, filterError } = visibleRows(state);
    this.filterMessage.textContent = filterError ? `Filter not applied: ${filterError}` : '';
    replaceChildren(
      this.brushNote,
      Object.keys(state.brush).length > 0
        ? [`Brushed in parallel coordinates: ${describeBrush(state.brush)} `, h('button', { type: 'button', id: 'clear-brush', onclick: () => this.handlers.update((s) => (s.brush = {})) }, 'Clear brush')]
        : null,
    );
    const okRuns = state.runs.filter((r) => r.ok);
    const fields = knownFields(okRuns);
    const groupOptions = [
      { value: '', label: 'no grouping' },
      ...['experiment', 'status', 'backend', 'seed'].map((f) => ({ value: f, label: `group by ${f}` })),
      ...fields.info.map((k) => ({ value: `info.${k}`, label: `group by ${k}` })),
      ...fields.config.map((k) => ({ value: `config.${k}`, label: `group by ${k}` })),
    ];
    replaceChildren(
      this.groupHolder,
      select(groupOptions, state.groupBy, (v) => this.handlers.update((s) => (s.groupBy = v)), { id: 'group-by' }),
    );
    const errors = state.runs.length - okRuns.length;
    this.counts.textContent = `${state.runs.length} runs${errors ? ` (${errors} unreadable)` : ''} · ${rows.length} shown · ${state.selected.size} selected`;

    const columns = tableColumns(state.runs);
    const scrollTop = this.tableHolder.scrollTop;
    const head = h(
      'tr',
      {},
      h('th', { class: 'check' }),
      ...columns.map((c) => {
        const sorted = state.sort.field === c.field;
        return h(
          'th',
          {
            'data-field': c.field,
            title: c.title ?? c.label,
            class: sorted ? (state.sort.desc ? 'sorted desc' : 'sorted asc') : null,
            onclick: () => this.handlers.update((s) => (s.sort = { field: c.field, desc: sorted ? !s.sort.desc : false })),
          },
          c.label,
          sorted ? (state.sort.desc ? ' ▼' : ' ▲') : '',
        );
      }),
    );
    const body = h('tbody');
    let budget = this.rowLimit;
    const add = (row: RunRow) => {
      if (budget-- > 0) body.append(this.rowElement(row, columns));
    };
    if (state.groupBy) {
      const groups = new Map<string, RunRow[]>();
      for (const row of rows) {
        const key = formatValue(fieldValue(row, state.groupBy) ?? null);
        const list = groups.get(key);
        if (list) list.push(row);
        else groups.set(key, [row]);
      }
      const keys = [...groups.keys()].sort((a, b) => (a === '') !== (b === '') ? (a === '' ? 1 : -1) : compareScalars(numOrText(a), numOrText(b)));
      for (const key of keys) {
        if (budget <= 0) break;
        const members = groups.get(key)!;
        const selectable = members.filter((r) => r.ok && !r.queueOnly);
        const allSelected = selectable.length > 0 && selectable.every((r) => state.selected.has(r.id));
        const box = h('input', { type: 'checkbox', checked: allSelected, title: 'select this group' });
        box.addEventListener('change', () =>
          this.handlers.update((s) => selectable.forEach((r) => (box.checked ? s.selected.add(r.id) : s.selected.delete(r.id)))),
        );
        body.append(
          h(
            'tr',
            { class: 'group-row' },
            h('td', { class: 'check' }, box),
            h(
              'td',
              { colspan: columns.length },
              h('span', { class: 'group-label' }, `${state.groupBy.replace(/^(config|info)\./, '')} = ${key || '(none)'} · ${members.length} run${members.length === 1 ? '' : 's'}`),
            ),
          ),
        );
        for (const row of members) add(row);
      }
    } else {
      rows.forEach(add);
    }
    const more =
      rows.length > this.rowLimit
        ? h(
            'button',
            { type: 'button', id: 'show-all-rows', class: 'show-all', onclick: () => ((this.rowLimit = Infinity), this.render()) },
            `Show all ${rows.length} rows (${this.rowLimit} shown)`,
          )
        : null;
    replaceChildren(this.tableHolder, h('table', { id: 'runs-table' }, h('thead', {}, head), body), more);
    if (scrollTop > 0) this.tableHolder.scrollTop = scrollTop;
  }

  private rowElement(row: RunRow, columns: Column[]): HTMLTableRowElement {
    if (!row.ok) {
      return h(
        'tr',
        { class: 'error-row', 'data-run-id': row.id },
        h('td', { class: 'check' }),
        h('td', {}, h('span', { class: 'badge status-error' }, 'error')),
        h('td', { class: 'name' }, row.id),
        h('td', { class: 'error-msg', colspan: Math.max(1, columns.length - 2) }, row.error ?? 'unreadable'),
      );
    }
    const selected = this.state.selected.has(row.id);
    const box = h('input', { type: 'checkbox', checked: selected, 'aria-label': `select ${row.id}` });
    box.addEventListener('change', () => this.handlers.update((s) => (box.checked ? s.selected.add(row.id) : s.selected.delete(row.id))));
    const cells = columns.map((c) => {
      if (c.field === 'status') {
        const badge = h('span', { class: `badge status-${row.status}`, title: row.failure ?? row.status ?? '' }, row.status ?? '');
        const fork = row.trainedBy ? h('span', { class: 'fork-info', title: `took the step ${row.trainedBy.step} checkpoint of ${row.trainedBy.run} (same training) and evaluated it again: its training curves are that run's` }, `fork of ${row.trainedBy.run}`) : null;
        return h('td', { class: 'status' }, badge, row.queue ? h('span', { class: 'queue-info' }, queueText(row)) : null, fork);
      }
      if (c.field === 'name') return h('td', { class: 'name', title: row.id }, row.id);
      const value = fieldValue(row, c.field);
      return h('td', { class: typeof value === 'number' ? 'num' : null }, formatValue(value ?? null));
    });
    // A queued point has no run folder yet: nothing to plot or compare.
    const check = row.queueOnly ? h('td', { class: 'check' }) : h('td', { class: 'check' }, box);
    return h('tr', { 'data-run-id': row.id, class: [selected ? 'selected' : '', row.queueOnly ? 'queued-row' : ''].join(' ').trim() || null }, check, ...cells);
  }
}

/** `sweep sw-… seed=1 · svae 12/40 loss 3.2100 1,234 tok/s on host:pid (cpu)`, or its error. */
function queueText(row: RunRow): string {
  const q = row.queue!;
  const point = `sweep ${q.sweep}${q.label ? ` ${q.label}` : ''}`;
  if (q.state === 'active') return `${point} · ${q.detail ?? `on ${q.worker ?? '?'}`}`;
  if (q.state === 'failed' || q.state === 'cancelled') return `${point} · ${q.error ?? q.state}`;
  if (q.state === 'waiting' || q.state === 'pending') return `${point} · ${q.state === 'pending' ? 'waits for shared stages' : 'waits for a worker'}`;
  return point;
}

function numOrText(s: string): string | number {
  const n = Number(s);
  return s !== '' && Number.isFinite(n) ? n : s;
}
