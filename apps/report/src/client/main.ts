// First: a browser language that Intl rejects would stop the chart libraries from loading.
import './locale.js';
import type { RunRow } from '../shared/types.js';
import { destroyCharts } from './charts.js';
import { renderCurves } from './curves-view.js';
import { detectSource } from './data-source.js';
import { renderDiff } from './diff-view.js';
import { renderEmbeddings } from './embedding-view.js';
import { h, replaceChildren } from './dom.js';
import { renderPaper } from './paper-view.js';
import { renderParallel } from './parallel-view.js';
import { renderPlayground } from './playground-tab.js';
import { RunsTable, visibleRows } from './runs-table.js';
import { renderSamples } from './samples-view.js';
import { initialState, RunDataCache, type AppState, type Tab } from './state.js';
import { renderSummary } from './summary-view.js';
import { renderSystem } from './system-view.js';

const POLL_MS = 2000;
const TABS: { id: Tab; label: string }[] = [
  { id: 'curves', label: 'Curves' },
  { id: 'diff', label: 'Config diff' },
  { id: 'summary', label: 'Summary & pivot' },
  { id: 'paper', label: 'Paper view' },
  { id: 'samples', label: 'Samples' },
  { id: 'parallel', label: 'Parallel coordinates' },
  { id: 'system', label: 'System' },
  { id: 'embeddings', label: 'Embeddings' },
  { id: 'playground', label: 'Playground' },
];

const source = detectSource();
const state = initialState();
const cache = new RunDataCache(source);
const liveStatus = h('span', { id: 'live-status', class: 'live' });
const tabBar = h('nav', { class: 'tabs', role: 'tablist' });
const panel = h('section', { id: 'panel', class: 'panel' });
const table = new RunsTable(state, { update });
let panelRun = 0;

/** Applies a state change, then re-renders the runs table and/or the active panel (both by default). */
function update(change: (s: AppState) => void, opts: { table?: boolean; panel?: boolean } = {}): void {
  change(state);
  if (opts.table ?? true) table.render();
  if (opts.panel ?? true) void renderPanel();
}

function selectedRuns(): RunRow[] {
  const { rows } = visibleRows(state);
  const inOrder = rows.filter((r) => r.ok && state.selected.has(r.id));
  const hidden = state.runs.filter((r) => r.ok && state.selected.has(r.id) && !inOrder.includes(r));
  return [...inOrder, ...hidden];
}

function renderTabs(): void {
  replaceChildren(
    tabBar,
    TABS.map((t) =>
      h(
        'button',
        {
          type: 'button',
          role: 'tab',
          id: `tab-${t.id}`,
          'aria-selected': state.tab === t.id ? 'true' : 'false',
          class: state.tab === t.id ? 'active' : null,
          onclick: () => {
            state.tab = t.id;
            renderTabs();
            void renderPanel();
          },
        },
        t.label,
      ),
    ),
  );
}

async function renderPanel(): Promise<void> {
  const run = ++panelRun;
  const selected = selectedRuns();
  const panelUpdate = (change: (s: AppState) => void) => update(change, { table: false, panel: true });
  destroyCharts();
  panel.dataset.ready = 'false';
  try {
    switch (state.tab) {
      case 'curves':
        await renderCurves(panel, state, selected, cache, panelUpdate);
        break;
      case 'diff':
        renderDiff(panel, state, selected, panelUpdate);
        break;
      case 'summary':
        renderSummary(panel, state, selected, visibleRows(state).rows, panelUpdate);
        break;
      case 'paper':
        renderPaper(panel, state, selected, state.runs.filter((r) => r.ok), panelUpdate);
        break;
      case 'samples':
        await renderSamples(panel, selected, cache);
        break;
      case 'parallel':
        renderParallel(panel, state, selected, panelUpdate, (change) => update(change, { table: true, panel: false }));
        break;
      case 'system':
        await renderSystem(panel, selected, cache);
        break;
      case 'embeddings':
        await renderEmbeddings(panel, state, selected, cache, panelUpdate);
        break;
      case 'playground':
        await renderPlayground(panel, state.runs, source.live);
        break;
    }
  } catch (error) {
    if (run === panelRun) replaceChildren(panel, h('p', { class: 'error-msg' }, `Could not render: ${(error as Error).message}`));
  }
  if (run === panelRun) panel.dataset.ready = 'true';
}

async function refresh(): Promise<void> {
  try {
    const payload = await source.runs();
    state.updatedAt = new Date();
    delete state.loadError;
    state.queueError = payload.queue?.error;
    if (payload.version !== state.version) {
      const firstLoad = state.version === '';
      state.version = payload.version;
      state.runs = payload.runs;
      const ids = new Set(payload.runs.filter((r) => r.ok && !r.queueOnly).map((r) => r.id));
      for (const id of [...state.selected]) if (!ids.has(id)) state.selected.delete(id);
      table.render();
      if (firstLoad) {
        document.body.dataset.loadMs = String(Math.round(performance.now()));
        document.body.dataset.loaded = 'true';
      }
      await renderPanel();
    }
  } catch (error) {
    state.loadError = (error as Error).message;
  }
  liveStatus.textContent = state.loadError
    ? `cannot reach the report server: ${state.loadError}`
    : source.live
      ? `live · updated ${state.updatedAt?.toLocaleTimeString() ?? ''}${state.queueError ? ` · ${state.queueError}` : ''}`
      : 'static export';
  liveStatus.className = state.loadError || state.queueError ? 'live error' : 'live';
}

function main(): void {
  const app = document.getElementById('app')!;
  replaceChildren(app, h('header', {}, h('h1', {}, 'sentencelab report'), liveStatus), table.el, tabBar, panel);
  renderTabs();
  void refresh().then(() => {
    if (source.live) setInterval(() => void refresh(), POLL_MS);
  });
}

main();
