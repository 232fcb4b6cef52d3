import type { Embeddings } from '@sentencelab/runs';
import { pca, project } from '../shared/pca.js';
import type { RunRow } from '../shared/types.js';
import { h, PALETTE, replaceChildren, select, withAlpha } from './dom.js';
import { echart } from './echarts.js';
import type { AppState, RunDataCache } from './state.js';

/** What a point of the scatter carries for its tooltip. */
interface PointInfo {
  value: [number, number];
  /** Tooltip text: document and sentence, then the sentence itself. */
  label: string;
  text: string;
}

/**
 * A 2-D PCA projection (computed here, `shared/pca.ts`) of one run's embeddings.json: the
 * sentence vectors coloured by document, each point's sentence on hover; for a concept head,
 * each prediction as a hollow marker with a line to the true next sentence's vector.
 */
export async function renderEmbeddings(
  panel: HTMLElement,
  state: AppState,
  selected: RunRow[],
  cache: RunDataCache,
  update: (change: (s: AppState) => void) => void,
): Promise<void> {
  const runs = selected.filter((r) => r.hasEmbeddings);
  if (runs.length === 0) {
    replaceChildren(
      panel,
      h('p', { class: 'hint' }, 'Select a SentenceVAE or concept-head run: they write embeddings.json (held-out sentence vectors, and a head\'s predictions) at the end of training.'),
    );
    return;
  }
  const row = runs.find((r) => r.id === state.embeddingRun) ?? runs[0]!;
  const picker = select(runs.map((r) => ({ value: r.id })), row.id, (v) => update((s) => (s.embeddingRun = v)), { id: 'embedding-run' });
  const caption = h('p', { class: 'hint', id: 'embedding-caption' });
  const holder = h('div', { class: 'chart', id: 'embedding-chart' });
  replaceChildren(panel, h('div', { class: 'controls' }, h('label', {}, 'run ', picker)), caption, holder);
  const { embeddings } = await cache.embeddingsOf(row);
  if (!embeddings || embeddings.documents.every((d) => d.sentences.length === 0)) {
    holder.append(h('p', { class: 'hint' }, `${row.id} has no sentence vectors.`));
    return;
  }
  caption.textContent = describe(embeddings, drawEmbeddings(holder, embeddings));
}

function describe(e: Embeddings, explained: number[]): string {
  const n = e.documents.reduce((s, d) => s + d.sentences.length, 0);
  const share = explained.map((x) => `${(100 * x).toFixed(1)}%`).join(' + ');
  const what = e.source === 'svae' ? 'held-out sentences encoded by the SentenceVAE' : 'test sentences and the head\'s predictions of each next sentence (hollow, with a line to the true one)';
  return `PCA of ${n} sentence vectors (d = ${e.dim}) from ${e.documents.length} documents, step ${e.step}: ${what}. The two axes hold ${share} of the sentences' variance. Hover a point for its sentence.`;
}

/** Draws the scatter; returns the explained-variance shares of the two axes. */
function drawEmbeddings(holder: HTMLElement, e: Embeddings): number[] {
  // The axes are fitted on the true sentence vectors only; predictions are projected onto them.
  const p = pca(e.documents.flatMap((d) => d.sentences.map((s) => s.vector)));
  const xy = (v: number[]): [number, number] => {
    const [x = 0, y = 0] = project(p, v);
    return [x, y];
  };
  const colorOf = (doc: number) => PALETTE[doc % PALETTE.length]!;
  const sentences = e.documents.map((d, di) => ({
    name: d.id,
    type: 'scatter',
    symbolSize: 9,
    itemStyle: { color: colorOf(di) },
    data: d.sentences.map((s, si): PointInfo => ({ value: xy(s.vector), label: `${d.id} · sentence ${si + 1}`, text: s.text })),
  }));
  const predicted = e.predictions.map((q) => {
    const truth = e.documents[q.document]!.sentences[q.sentence]!;
    return { from: xy(q.vector), to: xy(truth.vector), doc: q.document, label: `prediction of ${e.documents[q.document]!.id} · sentence ${q.sentence + 1}; true:`, text: truth.text };
  });
  const extra =
    predicted.length === 0
      ? []
      : [
          {
            name: 'prediction → true next sentence',
            type: 'lines',
            coordinateSystem: 'cartesian2d',
            silent: true,
            // Series colours are what the legend shows; each line and marker takes its document's.
            lineStyle: { color: '#888', width: 1, opacity: 0.6, type: 'dashed' },
            data: predicted.map((q) => ({ coords: [q.from, q.to], lineStyle: { color: colorOf(q.doc) } })),
          },
          {
            name: 'predictions',
            type: 'scatter',
            symbol: 'emptyCircle',
            symbolSize: 10,
            itemStyle: { color: '#888', borderWidth: 2 },
            data: predicted.map((q): PointInfo & { itemStyle: object } => ({ value: q.from, label: q.label, text: q.text, itemStyle: { color: withAlpha(colorOf(q.doc), 0.9), borderWidth: 2 } })),
          },
        ];
  const chart = echart(holder, 520);
  chart.setOption({
    animation: false,
    grid: { left: 60, right: 30, top: 40, bottom: 50 },
    // Click a legend entry to hide a document, the predictions or their lines.
    legend: { type: 'scroll', top: 0, data: [...e.documents.map((d) => d.id), ...extra.map((x) => x.name)] },
    xAxis: { type: 'value', name: `PC1 (${(100 * (p.explained[0] ?? 0)).toFixed(1)}%)`, nameLocation: 'middle', nameGap: 28, scale: true, splitLine: { lineStyle: { color: '#eee' } } },
    yAxis: { type: 'value', name: `PC2 (${(100 * (p.explained[1] ?? 0)).toFixed(1)}%)`, nameLocation: 'middle', nameGap: 40, scale: true, splitLine: { lineStyle: { color: '#eee' } } },
    tooltip: {
      trigger: 'item',
      confine: true,
      className: 'embedding-tooltip',
      // Built from text nodes: sentences never reach innerHTML.
      formatter: (item: { data?: Partial<PointInfo> }) => h('div', { class: 'embedding-tip' }, h('div', { class: 'tip-label' }, item.data?.label ?? ''), h('div', { class: 'tip-text' }, item.data?.text ?? '')),
    },
    series: [...sentences, ...extra],
  });
  return p.explained;
}
