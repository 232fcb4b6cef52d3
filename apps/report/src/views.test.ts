/**
 * The sweep views in Chromium: parallel coordinates (brushing filters the runs table), system
 * metrics and the embedding view, over the report's fixture runs and real runs trained by
 * `pnpm exp run` (a tokenizer, a SentenceVAE and a Base-LCM head, 4 steps each on cpu).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunWriter } from '@sentencelab/runs';
import { boxByRunId, reportPage } from './testing/report-page.js';
import { startReportServer, type ReportServer } from './server/server.js';
import { exportStatic } from './server/static-export.js';
import { bundledChromium } from './testing/chromium.js';
import { THREE_SENTENCE_DOCS } from '@sentencelab/exp/testing';
import { TINY_STEPS, trainTinyRuns } from './testing/exp-runs.js';
import { writeFixtureRuns } from './testing/fixtures.js';

const SHOTS = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
/** `REPORT_SCREENSHOTS=1 pnpm vitest run src/views.test.ts` refreshes docs/screenshots/. */
const SCREENSHOTS = Boolean(process.env.REPORT_SCREENSHOTS);

let work: string;
let runsDir: string;
let server: ReportServer;
let live: RunWriter;
let tiny: { svae: string; mse: string };
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'report-views-'));
  runsDir = join(work, 'runs');
  live = writeFixtureRuns(runsDir).live;
  const browser = bundledChromium();
  // Training and the browser start at the same time.
  [tiny, context] = await Promise.all([
    trainTinyRuns(work, runsDir),
    chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: browser.executablePath,
      env: browser.env,
      locale: 'en-US',
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }),
  ]);
  server = await startReportServer({ runsDir, port: 0 });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('net::ERR_CONNECTION_REFUSED')) pageErrors.push(m.text());
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  live?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const ui = reportPage(() => page, boxByRunId);
const { rowIds, panelReady, selectOnly, openTab } = ui;
const load = (url = server.url) => ui.load(url);

async function shot(name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(SHOTS, name), fullPage: true });
}

/** Page coordinates of a value on a parallel axis (ECharts' own layout of the chart in `#parallel-chart`). */
function axisPoint(field: string, value: number): Promise<{ x: number; y: number }> {
  return page.$eval(
    '#parallel-chart',
    (el, [f, v]) => {
      type Coord = { dataToPoint(value: number, dim: string): [number, number] };
      const chart = (el as unknown as { echarts: { getOption(): { parallelAxis: { id: string; dim: number }[] }; getModel(): { getComponent(t: string): { coordinateSystem: Coord } } } }).echarts;
      const dim = chart.getOption().parallelAxis.find((a) => a.id === f)!.dim;
      // the coordinate system names its dimensions `dim<index>`
      const [x, y] = chart.getModel().getComponent('parallel').coordinateSystem.dataToPoint(v as number, `dim${dim}`);
      const box = el.getBoundingClientRect();
      return { x: box.left + x, y: box.top + y };
    },
    [field, value] as const,
  );
}

/** Page coordinates of a data point of the embedding scatter (series `series`, point `index`). */
function scatterPoint(series: string, index: number): Promise<{ x: number; y: number }> {
  return page.$eval(
    '#embedding-chart',
    (el, [name, i]) => {
      type Series = { name: string; data: { value: [number, number] }[] };
      const chart = (el as unknown as { echarts: { getOption(): { series: Series[] }; convertToPixel(finder: object, value: [number, number]): [number, number] } }).echarts;
      const all = chart.getOption().series;
      const s = all.findIndex((x) => x.name === name);
      const [x, y] = chart.convertToPixel({ seriesIndex: s }, all[s]!.data[i as number]!.value);
      const box = el.getBoundingClientRect();
      return { x: box.left + x, y: box.top + y };
    },
    [series, index] as const,
  );
}

/** The tooltip shown, checked against the corpus: `dK · sentence N` (or a prediction of it) shows sentence N of document K. */
async function hovered(): Promise<{ prediction: boolean; text: string }> {
  const tip = page.locator('.embedding-tooltip .embedding-tip');
  await tip.waitFor({ state: 'visible' });
  const label = (await tip.locator('.tip-label').textContent()) ?? '';
  const text = (await tip.locator('.tip-text').textContent()) ?? '';
  const m = /^(prediction of )?d(\d) · sentence (\d)(; true:)?$/.exec(label);
  if (!m) throw new Error(`unexpected tooltip label ${JSON.stringify(label)}`);
  expect(text).toBe(THREE_SENTENCE_DOCS[Number(m[2])]!.split(/(?<=\.) /)[Number(m[3]) - 1]);
  return { prediction: m[1] !== undefined, text };
}

const seriesOf = () =>
  page.$eval('#embedding-chart', (el) =>
    (el as unknown as { echarts: { getOption(): { series: { name: string; type: string; data: unknown[] }[] } } }).echarts.getOption().series.map((s) => ({ name: s.name, type: s.type, points: s.data.length })),
  );

describe('sweep views in Chromium', () => {
  it('parallel coordinates: config keys that differ and metrics as axes; brushing an axis filters the runs table', async () => {
    await load();
    const runs = ['paper/sllm-h1', 'paper/sllm-h2', 'paper/sllm-h4', 'paper/token-lm'];
    await selectOnly(runs);
    await openTab('parallel');
    const axes = await page.$eval('#parallel-chart', (el) => (el as unknown as { echarts: { getOption(): { parallelAxis: { id: string }[] } } }).echarts.getOption().parallelAxis.map((a) => a.id));
    // The runs' kind and stage (meta.json), then model.kind, svaeLayers and seed (the token LM
    // has neither); then the headline eval figures every run has.
    expect(axes).toEqual(['info.kind', 'info.stage', 'config.model.kind', 'config.model.svaeLayers', 'config.seed', 'eval.ppl', 'eval.tokens_per_s', 'eval.params']);
    expect(await rowIds()).toHaveLength(15);
    // Brush PPL 46..50 by dragging along its axis: token-lm (45.3) and sllm-h1 (52.1) fall outside,
    // and so does every run with another or no PPL (the other seeds at 49.1 and 49.5 are inside).
    const top = await axisPoint('eval.ppl', 50);
    const bottom = await axisPoint('eval.ppl', 46);
    await page.mouse.move(top.x, top.y);
    await page.mouse.down();
    await page.mouse.move(bottom.x, bottom.y, { steps: 6 });
    await page.mouse.up();
    await page.waitForSelector('#clear-brush');
    expect(await rowIds()).toEqual(['paper/sllm-h2', 'paper/sllm-h2-seed2', 'paper/sllm-h2-seed3', 'paper/sllm-h4']);
    expect(await page.textContent('#brush-note')).toMatch(/^Brushed in parallel coordinates: ppl in \[4[56](\.\d+)?, (49|50)(\.\d+)?\]/);
    expect(await page.textContent('#parallel-note')).toContain('2 of 4 runs in the brush');
    await shot('parallel.png');
    // The brush survives a re-render of the panel (adding an axis), then clears.
    await page.selectOption('#parallel-add-metric', 'eval.kv_bytes_per_token');
    await panelReady();
    expect(await rowIds()).toEqual(['paper/sllm-h2', 'paper/sllm-h2-seed2', 'paper/sllm-h2-seed3', 'paper/sllm-h4']);
    await page.click('#clear-brush');
    expect(await rowIds()).toHaveLength(15);
  });

  it('system metrics: CPU %, RSS and heap of real runs as curves, one point per logged step; backend per run', async () => {
    await selectOnly([tiny.svae, tiny.mse]);
    await openTab('system');
    const charts = await page.$$eval('#system-charts .chart', (els) =>
      els.map((el) => {
        const u = (el as unknown as { uplot: { data: (number | null)[][]; series: { label?: string }[] } }).uplot;
        return { id: el.id, labels: u.series.slice(1).map((s) => String(s.label)), counts: u.data.slice(1).map((ys) => ys.filter((v) => v !== null && v !== undefined).length) };
      }),
    );
    // cpu: no GPU kernel time.
    expect(charts.map((c) => c.id)).toEqual(['system-cpu_pct', 'system-rss_mb', 'system-heap_mb']);
    for (const c of charts) {
      // in the table's order (by name)
      expect(c.labels).toEqual([tiny.mse, tiny.svae]);
      expect(c.counts).toEqual([TINY_STEPS, TINY_STEPS]);
    }
    const rss = await page.$eval('#system-rss_mb', (el) => (el as unknown as { uplot: { data: (number | null)[][] } }).uplot.data[1]!.filter((v): v is number => v !== null));
    expect(rss.every((v) => v > 20 && v < 64_000)).toBe(true);
    expect(await page.$$eval('#system-devices tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent)))).toEqual([
      [tiny.mse, 'cpu'],
      [tiny.svae, 'cpu'],
    ]);
    await shot('system.png');
    // They have their own tab: the runs table's metric columns leave them out.
    const columns = await page.$$eval('#runs-table th[data-field]', (ths) => ths.map((th) => th.getAttribute('data-field') ?? ''));
    expect(columns).toContain('train/loss.last');
    expect(columns.filter((c) => c.includes('sys/'))).toEqual([]);
  });

  it('embeddings: a PCA of the SentenceVAE vectors coloured by document with the sentence on hover; a head\'s predictions with lines to the true sentences', async () => {
    await selectOnly([tiny.svae, tiny.mse]);
    await openTab('embeddings');
    // the first selected run with embeddings, in the table's order
    expect(await page.inputValue('#embedding-run')).toBe(tiny.mse);
    await page.selectOption('#embedding-run', tiny.svae);
    await panelReady();
    const own = await seriesOf();
    // One scatter series per held-out document, no predictions.
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((s) => s.type === 'scatter' && /^d\d$/.test(s.name) && s.points === 3)).toBe(true);
    expect(await page.textContent('#embedding-caption')).toMatch(new RegExp(`^PCA of ${own.length * 3} sentence vectors \\(d = 16\\) from ${own.length} documents, step 4`));
    const first = await scatterPoint(own[0]!.name, 0);
    await page.mouse.move(first.x, first.y);
    // Points may overlap after 4 training steps: whichever is on top, its label names it and the text is its sentence.
    expect(await hovered()).toEqual(expect.objectContaining({ prediction: false }));

    await page.selectOption('#embedding-run', tiny.mse);
    await panelReady();
    const head = await seriesOf();
    const docs = head.filter((s) => s.type === 'scatter' && s.name !== 'predictions');
    // Every sentence after a document's first has its prediction, drawn with a line to the true one.
    const targets = docs.reduce((n, s) => n + s.points - 1, 0);
    expect(head.find((s) => s.name === 'predictions')!.points).toBe(targets);
    expect(head.find((s) => s.type === 'lines')!.points).toBe(targets);
    const predicted = await scatterPoint('predictions', 0);
    await page.mouse.move(0, 0);
    await page.mouse.move(predicted.x, predicted.y);
    await page.waitForFunction(() => document.querySelector('.embedding-tooltip .tip-label')?.textContent?.startsWith('prediction of '));
    // a prediction names the sentence it predicts and shows the true one
    expect(await hovered()).toEqual(expect.objectContaining({ prediction: true }));
    await shot('embeddings.png');
  });

  it('the static export draws the same views from file://', async () => {
    const { file } = await exportStatic(runsDir, join(work, 'static'));
    await page.goto('about:blank');
    await load(`file://${file}`);
    await selectOnly([tiny.mse]);
    await openTab('embeddings');
    expect((await seriesOf()).some((s) => s.name === 'predictions')).toBe(true);
    await openTab('system');
    expect(await page.$$eval('#system-charts .chart', (els) => els.length)).toBe(3);
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
