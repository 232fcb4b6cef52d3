import { configDiff } from '../shared/config-diff.js';
import { formatValue } from '../shared/flatten.js';
import type { RunRow, Scalar } from '../shared/types.js';
import { h, replaceChildren } from './dom.js';
import type { AppState } from './state.js';

/** The selected runs' resolved configs side by side (plus backend and git), differences only by default. */
export function renderDiff(panel: HTMLElement, state: AppState, runs: RunRow[], update: (change: (s: AppState) => void) => void): void {
  if (runs.length === 0) {
    replaceChildren(panel, h('p', { class: 'hint' }, 'Select two or more runs in the table to compare their configs.'));
    return;
  }
  const configs = runs.map((r): Record<string, Scalar> => ({
    ...(r.config ?? {}),
    '(run) backend': r.backend ?? null,
    '(run) seed': r.seed ?? null,
    '(run) git': r.gitSha ? `${r.gitSha.slice(0, 10)}${r.gitDirty ? ' (dirty)' : ''}` : null,
    ...Object.fromEntries(Object.entries(r.info ?? {}).map(([k, v]) => [`(info) ${k}`, v])),
  }));
  const rows = configDiff(configs, !state.diffAll);
  const toggle = h('input', { type: 'checkbox', id: 'diff-all', checked: state.diffAll });
  toggle.addEventListener('change', () => update((s) => (s.diffAll = toggle.checked)));
  const table = h(
    'table',
    { id: 'diff-table', class: 'grid' },
    h('thead', {}, h('tr', {}, h('th', {}, 'key'), ...runs.map((r) => h('th', { title: r.id }, r.id)))),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          { class: row.differs ? 'differs' : null, 'data-key': row.key },
          h('td', { class: 'key' }, row.key),
          ...row.values.map((v) => h('td', { class: v === undefined ? 'missing' : null }, v === undefined ? '—' : formatValue(v))),
        ),
      ),
    ),
  );
  replaceChildren(
    panel,
    h('div', { class: 'controls' }, h('label', {}, toggle, ' show all keys'), h('span', { class: 'counts' }, `${rows.length} keys ${state.diffAll ? '' : 'differ'}`)),
    rows.length === 0 ? h('p', { class: 'hint', id: 'diff-empty' }, 'The selected configs are identical.') : table,
  );
}
