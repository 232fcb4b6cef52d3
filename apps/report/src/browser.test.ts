import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunWriter } from '@sentencelab/runs';
import { boxByName, reportPage } from './testing/report-page.js';
import { startReportServer, type ReportServer } from './server/server.js';
import { exportStatic } from './server/static-export.js';
import { redisMissing, startRedis } from '@sentencelab/runs/queue/testing';
import { bundledChromium } from './testing/chromium.js';
import { enqueueSweep } from './testing/sweep.js';
import { LOSS_POINTS, PROMPTS, writeFixtureRuns, writeManyRuns, XSS_RUN } from './testing/fixtures.js';

const DOCS = fileURLToPath(new URL('../docs/', import.meta.url));
/** `REPORT_SCREENSHOTS=1 pnpm vitest run src/browser.test.ts` refreshes the README's screenshots. */
const SCREENSHOTS = Boolean(process.env.REPORT_SCREENSHOTS);

let work: string;
let runsDir: string;
let server: ReportServer;
let live: RunWriter;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'report-browser-'));
  runsDir = join(work, 'runs');
  live = writeFixtureRuns(runsDir).live;
  server = await startReportServer({ runsDir, port: 0 });
  const browser = bundledChromium();
  context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: browser.executablePath,
    env: browser.env,
    locale: 'en-US',
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    // A live poll in flight while a test stops its own server is refused by the network, not
    // an error of the page; every other console error counts.
    if (m.type() === 'error' && !m.text().includes('net::ERR_CONNECTION_REFUSED')) pageErrors.push(m.text());
  });
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

const ui = reportPage(() => page, boxByName);
const { rowIds, panelReady, rowBox, selectOnly, openTab } = ui;
const load = (url = server.url) => ui.load(url);

const chartX = () => page.$eval('#curve-chart', (el) => Array.from((el as unknown as { uplot: { data: number[][] } }).uplot.data[0]!));

/** Non-null points per series of the curve chart, read from uPlot's own data. */
function chartPoints(): Promise<{ labels: string[]; counts: number[]; xLength: number }> {
  return page.$eval('#curve-chart', (el) => {
    const chart = (el as unknown as { uplot: { data: (number | null)[][]; series: { label?: string }[] } }).uplot;
    return {
      labels: chart.series.slice(1).map((s) => String(s.label)),
      counts: chart.data.slice(1).map((ys) => ys.filter((v) => v !== null && v !== undefined).length),
      xLength: chart.data[0]!.length,
    };
  });
}

async function shot(name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(DOCS, { recursive: true });
  await page.$eval('.table-wrap', (el) => (el.scrollLeft = 0));
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(DOCS, name), fullPage: true });
}

describe('report app in Chromium', () => {
  it('shows every run folder, bad ones as error rows', async () => {
    await load();
    expect(await rowIds()).toHaveLength(13);
    const errors = await page.$$eval('#runs-table tr.error-row', (trs) => trs.map((tr) => tr.textContent));
    expect(errors).toEqual([
      expect.stringContaining('broken/corrupt/meta.json: invalid JSON'),
      expect.stringContaining('broken/half-written/meta.json: missing (half-written run'),
    ]);
    expect(await page.textContent('#run-counts')).toBe('13 runs (2 unreadable) · 13 shown · 0 selected');
  });

  it('escapes run names, config values and samples', async () => {
    const xssId = `paper/${XSS_RUN}`;
    expect(await page.locator('#runs-table td.name', { hasText: XSS_RUN }).count()).toBe(1);
    await selectOnly([xssId, 'paper/token-lm']);
    await openTab('diff');
    expect(await page.textContent('#diff-table')).toContain('<script>window.__xss=2</script>');
    await openTab('samples');
    expect(await page.textContent('#samples-table')).toContain('<b>bold</b><img src=x onerror="window.__xss=3">');
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.$$eval('#app img, #app b, #app script', (els) => els.length)).toBe(0);
  });

  it('filters by text and by expression, and explains a bad expression', async () => {
    await page.fill('#filter', 'sllm');
    expect(await rowIds()).toEqual(['paper/sllm-h1', 'paper/sllm-h2', 'paper/sllm-h2-seed2', 'paper/sllm-h2-seed3', 'paper/sllm-h4', 'paper/sllm-h8-live']);
    await page.fill('#filter', 'eval.ppl < 48 && model.kind ~ "lm"');
    expect(await rowIds()).toEqual(['paper/sllm-h4', 'paper/token-lm']);
    await page.fill('#filter', 'ppl <');
    expect(await page.textContent('#filter-error')).toBe('Filter not applied: expression ends too early');
    expect(await rowIds()).toHaveLength(13);
    await page.fill('#filter', '');
  });

  it('sorts by a column and groups by a config key', async () => {
    await page.click('#runs-table th[data-field="eval.ppl"]');
    expect((await rowIds()).slice(0, 3)).toEqual(['paper/token-lm', 'paper/sllm-h4', 'paper/sllm-h2']);
    await page.click('#runs-table th[data-field="eval.ppl"]');
    expect((await rowIds())[0]).toBe(`paper/${XSS_RUN}`);
    await page.selectOption('#group-by', 'config.model.svaeLayers');
    const groups = await page.$$eval('#runs-table tr.group-row', (trs) => trs.map((tr) => tr.textContent?.trim()));
    expect(groups).toEqual(['model.svaeLayers = 1 · 1 run', 'model.svaeLayers = 2 · 3 runs', 'model.svaeLayers = 4 · 1 run', 'model.svaeLayers = 8 · 1 run', 'model.svaeLayers = (none) · 7 runs']);
    await shot('runs-grouped.png');
    await page.selectOption('#group-by', '');
    await page.click('#runs-table th[data-field="name"]');
  });

  it('diffs the selected configs, differences only by default', async () => {
    await selectOnly(['paper/token-lm', 'paper/sllm-h1']);
    await openTab('diff');
    const keys = () => page.$$eval('#diff-table tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-key')));
    expect(await keys()).toEqual(['(info) kind', '(info) stage', 'model.kind', 'model.svaeLayers', 'seed']);
    // columns follow the table order (sorted by name)
    expect(await page.textContent('#diff-table tr[data-key="model.kind"]')).toBe('model.kindsllmtoken-lm');
    await page.check('#diff-all');
    await panelReady();
    expect(await keys()).toContain('train.lr');
    await shot('config-diff.png');
    await page.uncheck('#diff-all');
  });

  it('draws a curve per selected run with every logged point, and seed groups as mean + band', async () => {
    await selectOnly(['paper/token-lm', 'paper/sllm-h1']);
    await openTab('curves');
    await page.selectOption('#curve-metric', 'loss');
    await panelReady();
    let chart = await chartPoints();
    // smoothed + faint raw curve per run
    expect(chart.labels).toEqual(['paper/sllm-h1', 'paper/sllm-h1 (raw)', 'paper/token-lm', 'paper/token-lm (raw)']);
    expect(chart.counts).toEqual([LOSS_POINTS, LOSS_POINTS, LOSS_POINTS, LOSS_POINTS]);
    expect(chart.xLength).toBe(LOSS_POINTS);
    await page.selectOption('#curve-metric', 'val_ppl');
    await panelReady();
    expect((await chartPoints()).counts).toEqual([5, 5, 5, 5]);
    expect(await chartX()).toEqual([0, 40, 80, 120, 160]);
    await page.check('#curve-log');
    await panelReady();
    await page.selectOption('#curve-x', 'wallTime');
    await panelReady();
    expect((await chartPoints()).counts).toEqual([5, 5, 5, 5]);
    // val_ppl is logged at wall time step * 0.05 s
    expect(await chartX()).toEqual([0, 2, 4, 6, 8]);
    await page.selectOption('#curve-x', 'step');
    await page.uncheck('#curve-log');
    await page.selectOption('#curve-metric', 'loss');
    await panelReady();
    await shot('curves.png');

    await selectOnly(['paper/sllm-h2', 'paper/sllm-h2-seed2', 'paper/sllm-h2-seed3', 'paper/token-lm']);
    await page.check('#curve-group-seeds');
    await panelReady();
    chart = await chartPoints();
    expect(chart.labels).toEqual(['paper/sllm-h2 (mean of 3 seeds)', 'paper/sllm-h2 (mean of 3 seeds) (hi)', 'paper/sllm-h2 (mean of 3 seeds) (lo)', 'paper/token-lm', 'paper/token-lm (raw)']);
    expect(chart.counts).toEqual([LOSS_POINTS, LOSS_POINTS, LOSS_POINTS, LOSS_POINTS, LOSS_POINTS]);
    await shot('curves-seed-band.png');
    await page.uncheck('#curve-group-seeds');
    await panelReady();
  });

  it('shows new points of a running run without a reload', async () => {
    await selectOnly(['paper/sllm-h8-live']);
    await openTab('curves');
    expect(await page.inputValue('#curve-metric')).toBe('loss');
    expect((await chartPoints()).counts[0]).toBe(LOSS_POINTS);
    const run = live;
    for (let step = 200; step < 240; step += 4) run.logMetrics(step, { loss: 3 });
    run.flush();
    await page.waitForFunction(
      (n) => {
        const el = document.querySelector('#curve-chart') as unknown as { uplot?: { data: (number | null)[][] } } | null;
        return el?.uplot?.data[1]?.filter((v) => v !== null).length === n;
      },
      LOSS_POINTS + 10,
      { timeout: 15_000 },
    );
  });

  it('exports the pivot table as CSV, Markdown and LaTeX', async () => {
    await selectOnly(['paper/sllm-h1', 'paper/sllm-h2', 'paper/sllm-h2-seed2', 'paper/sllm-h2-seed3', 'paper/sllm-h4']);
    await openTab('summary');
    await page.selectOption('#pivot-rows', 'config.model.svaeLayers');
    await panelReady();
    await page.selectOption('#pivot-cols', 'config.seed');
    await panelReady();
    await page.selectOption('#pivot-cell', 'eval.ppl');
    await panelReady();
    await page.click('#export-csv');
    await panelReady();
    const csv = 'model.svaeLayers \\ seed,1,2,3\r\n1,52.1,,\r\n2,48.7,49.1,49.5\r\n4,47.9,,\r\n';
    // a textarea shows CRLF as LF; the downloaded file keeps CRLF
    expect(await page.inputValue('#export-output')).toBe(csv.replace(/\r\n/g, '\n'));
    expect(await page.$eval('#export-download', (a) => fetch((a as HTMLAnchorElement).href).then((r) => r.text()))).toBe(csv);
    expect(await page.getAttribute('#export-download', 'download')).toBe('pivot.csv');
    await page.click('#export-markdown');
    await panelReady();
    expect(await page.inputValue('#export-output')).toBe(
      '| model.svaeLayers \\\\ seed | 1 | 2 | 3 |\n|---|---:|---:|---:|\n| 1 | 52.1 |  |  |\n| 2 | 48.7 | 49.1 | 49.5 |\n| 4 | 47.9 |  |  |\n',
    );
    await page.click('#export-latex');
    await panelReady();
    const latex = await page.inputValue('#export-output');
    expect(latex).toContain('model.svaeLayers \\textbackslash{} seed & 1 & 2 & 3 \\\\');
    expect(latex).toContain('2 & 48.7 & 49.1 & 49.5 \\\\');
    expect(await page.getAttribute('#export-download', 'download')).toBe('pivot.tex');
    expect(await page.textContent('#metric-summary')).toContain('val_ppl');
    // The learning rate has no better side: no best value or step, direction none, no "lr best" cell.
    const lrRow = await page.$$eval('#metric-summary tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)).find((c) => c[0] === 'lr'));
    expect(lrRow?.slice(5)).toEqual(['-', '-', 'none']);
    const cells = await page.$$eval('#pivot-cell option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(cells).toEqual(expect.arrayContaining(['loss.best', 'lr.last']));
    expect(cells).not.toContain('lr.best');
    // A figure's 95% interval sits in its cell (sllm-h1 stored one), not in rows of its own.
    const evalRows = await page.$$eval('#eval-summary tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    expect(evalRows.map((r) => r[0])).not.toContain('ppl_ci_low');
    expect(evalRows.find((r) => r[0] === 'ppl')).toContain('52.1 [47.46, 57.02]');
    // So does the range of the bench's timed passes.
    expect(evalRows.map((r) => r[0])).not.toContain('tokens_per_s_min');
    expect(evalRows.find((r) => r[0] === 'tokens_per_s')).toContain('2100 (1900-2300)');
    await shot('summary-pivot.png');
    expect(await page.$('#pivot-note')).toBeNull();
    // A token LM and an SLLM of the same seed in one cell: its mean names both stages, and a note under the table says so.
    await selectOnly(['paper/token-lm', 'paper/sllm-h1']);
    await page.selectOption('#pivot-rows', 'experiment');
    await panelReady();
    await page.selectOption('#pivot-cols', 'status');
    await panelReady();
    const pivotRows = await page.$$eval('#pivot-table tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    expect(pivotRows).toEqual([['paper', '48.7 (n=2, mixes sllm, token-lm)']]);
    expect(await page.textContent('#pivot-note')).toMatch(/average runs of different stages/);
  });

  it('builds the paper tables with % change against the baseline', async () => {
    await selectOnly(['paper/token-lm', 'paper/sllm-h1', 'paper/sllm-h4', 'lcm/mse', 'lcm/two-tower', 'lcm/one-tower']);
    await openTab('paper');
    expect(await page.inputValue('#paper-baseline')).toBe('paper/token-lm');
    const cells = await page.$$eval('#paper-svae tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    // Only token-LM and SLLM runs, with short labels: the LCM runs (which have a parameter count) are not rows of dashes here.
    expect(cells.map((row) => row[0])).toEqual(['token-lm (baseline)', 'sllm-h1', 'sllm-h4']);
    // Each figure with its stored 95% interval; a change within overlapping intervals says so, uncoloured.
    expect(cells[0]!.slice(3, 8)).toEqual(['45.3 [42.04, 48.91]', '', '2.5 [2.47, 2.53]', '', '850 (800-900)']);
    expect(cells[1]).toEqual(['sllm-h1', '1170000', '-2.5%', '52.1 [47.46, 57.02]', '+15.0% (intervals overlap)', '2.45 [2.441, 2.459]', '-2.0%', '2100 (1900-2300)', '+147.1%', '2.6667', '-66.7%']);
    // sllm-h4's eval paired it with this token LM run: its change carries the paired interval, which excludes no change.
    expect(cells[2]!.slice(3, 5)).toEqual(['47.9', '+5.7% [+2.0%, +9.0%] paired']);
    const pairedCell = await page.$$eval('#paper-svae tbody tr:nth-child(3) td.change', (tds) => ({ className: tds[1]!.className, title: tds[1]!.getAttribute('title') }));
    expect(pairedCell).toEqual({ className: 'num change worse', title: expect.stringMatching(/^paired 95% interval of the change/) });
    const classes = await page.$$eval('#paper-svae tbody tr:nth-child(2) td.change', (tds) => tds.map((td) => td.className));
    expect(classes.slice(0, 4)).toEqual(['num change better', 'num change unresolved', 'num change better', 'num change better']);
    expect(await page.inputValue('#paper-markdown')).toContain('| sllm-h1 | 1170000 | -2.5% | 52.1 [47.46, 57.02] | +15.0% (intervals overlap) |');
    const lcmRows = (part: string): Promise<string[][]> =>
      page.$$eval(`#paper-lcm-${part} tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('th, td')].map((td) => td.textContent ?? '')));
    // As distributions: the energy score (with its interval) rates a sampling head as a distribution, where L2 counts its spread against it;
    // each paired difference names the head it was paired with. No run has a posterior energy score: no such columns.
    expect(await lcmRows('distribution')).toEqual([
      ['Run', 'Energy score', 'ES − train-dist (paired)', 'ES − baseline head (paired)', 'Spread / skill'],
      ['mse', '0.82 [0.8, 0.85]', '0.31', '—', '0'],
      ['one-tower', '0.49 [0.47, 0.52]', '-0.02', '-0.33 [-0.7, 0.04] vs mse', '0.93 [0.88, 0.99]'],
      ['two-tower', '0.47 [0.45, 0.5]', '-0.04', '-0.35 [-0.4, -0.3] vs mse', '0.62 [0.58, 0.66]'],
    ]);
    expect(await lcmRows('point')).toEqual([
      ['Run', 'L2', 'L2 − baseline head (paired)', 'Contrastive acc.', 'Round-trip L2'],
      ['mse', '0.82', '—', '0.61', '0.9'],
      ['one-tower', '0.75', '0.07 [0.01, 0.12] vs mse', '0.66', '0.83'],
      ['two-tower', '0.71', '-0.11 [-0.15, -0.07] vs mse', '0.68', '0.79'],
    ]);
    // A paired difference is coloured by its interval: below 0 better for the energy score and L2, including 0 unresolved;
    // spread / skill, with no better side, is not coloured.
    const verdicts = await page.$$eval('#paper-lcm-distribution td.change, #paper-lcm-point td.change', (tds) => tds.map((td) => `${td.textContent} ${td.className}`));
    expect(verdicts).toEqual([
      '-0.33 [-0.7, 0.04] vs mse num change unresolved',
      '-0.35 [-0.4, -0.3] vs mse num change better',
      '0.07 [0.01, 0.12] vs mse num change worse',
      '-0.11 [-0.15, -0.07] vs mse num change better',
    ]);
    expect(await page.inputValue('#paper-markdown')).toContain('| two-tower | 0.47 [0.45, 0.5] | -0.04 | -0.35 [-0.4, -0.3] vs mse | 0.62 [0.58, 0.66] |');
    // Two sentences ahead, where a run has the figures: its own table.
    expect(await lcmRows('ahead')).toEqual([
      ['Run', 'ES 2 ahead', 'ES 2 ahead − baseline head (paired)'],
      ['mse', '0.9', '—'],
      ['one-tower', '—', '—'],
      ['two-tower', '0.55', '-0.35 [-0.41, -0.29] vs mse'],
    ]);
    expect(await page.$$eval('#paper-bars .uplot', (els) => els.length)).toBe(5);
    // By horizon: a line per head that has the figures (not one-tower), beside the training distribution at 0.
    const horizon = await page.$eval('#paper-horizon', (el) => {
      const chart = (el as unknown as { uplot: { data: (number | null)[][]; series: { label?: string }[] } }).uplot;
      return { data: chart.data, labels: chart.series.map((s) => s.label) };
    });
    expect(horizon.labels.slice(1)).toEqual(['mse', 'two-tower', 'training distribution']);
    expect(horizon.data).toEqual([[1, 2, 3], [0.31, 0.4, 0.45], [-0.04, 0.02, 0.08], [0, 0, 0]]);
    await shot('paper-view.png');
    // Only concept heads: no token LM or SLLM table (not an LCM head as its baseline), its Markdown the LCM tables alone.
    await selectOnly(['lcm/mse', 'lcm/two-tower']);
    await page.selectOption('#paper-baseline', 'lcm/mse');
    await panelReady();
    expect(await page.$('#paper-svae')).toBeNull();
    expect(await page.textContent('#paper-svae-none')).toMatch(/No token LM or SLLM among these runs/);
    expect(await page.inputValue('#paper-markdown')).toMatch(/^\| Run \| Energy score/);
    // A head without the figures alone: a hint in place of the chart.
    await selectOnly(['lcm/one-tower']);
    await page.selectOption('#paper-baseline', 'lcm/one-tower');
    await panelReady();
    expect(await page.textContent('#paper-horizon-none')).toMatch(/No concept head has an energy score by horizon/);
  });

  it('shows samples of the selected runs side by side per prompt', async () => {
    await selectOnly(['paper/token-lm', 'paper/sllm-h1']);
    await openTab('samples');
    const rows = await page.$$eval('#samples-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    // latest step per prompt: sllm-h1's step-100 sample is replaced by its step-200 one
    expect(rows).toEqual([
      [PROMPTS[0], 'step 200 · sllmThe dog slept.', 'step 200 · token-lmThe cat ran away.'],
      [PROMPTS[1], '—', 'step 200 · token-lmPeople stayed inside.'],
    ]);
    await shot('samples.png');
  });

  it('exports a self-contained static page that works from file://', async () => {
    const out = join(work, 'static');
    const { file } = await exportStatic(runsDir, out);
    // Leave the served page first: its live poll must not be counted as the static page's request.
    await page.goto('about:blank');
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await load(`file://${file}`);
    expect(await rowIds()).toHaveLength(13);
    expect(await page.textContent('#live-status')).toBe('static export');
    await rowBox('paper/token-lm').check();
    await panelReady();
    expect((await chartPoints()).counts).toEqual([LOSS_POINTS, LOSS_POINTS]);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
  });

  it('loads 1,000 runs in under 2 seconds', async () => {
    const manyDir = join(work, 'many');
    writeManyRuns(manyDir, 1000);
    const many = await startReportServer({ runsDir: manyDir, port: 0 });
    try {
      // navigation start -> table in the DOM, as the page measures it (performance.now() at the
      // first render); best of 3 loads, as the 2-core test machine is shared with other suites
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        await load(many.url);
        times.push(Number(await page.evaluate(() => document.body.dataset.loadMs)));
      }
      const ms = Math.min(...times);
      expect(await page.textContent('#run-counts')).toBe('1000 runs · 1000 shown · 0 selected');
      expect(await rowIds()).toHaveLength(200);
      console.log(`1,000 runs: table rendered ${times.join(' / ')} ms after navigation started`);
      expect(ms).toBeLessThan(2000);
      await page.fill('#filter', 'model.layers == 2 && train.lr < 0.0005');
      expect(await page.textContent('#run-counts')).toBe('1000 runs · 167 shown · 0 selected');
      await page.fill('#filter', '');
      await page.click('#show-all-rows');
      expect(await rowIds()).toHaveLength(1000);
    } finally {
      await many.close();
    }
  });

  it.skipIf(redisMissing() !== undefined)('shows the queued points of a sweep, without the queue password, and says when the queue is gone', async () => {
    const secret = 'browser-Pa55';
    const redis = await startRedis({ password: secret });
    const queueDir = join(work, 'queue');
    const queueRuns = join(queueDir, 'runs');
    mkdirSync(queueRuns, { recursive: true });
    const withQueue = await startReportServer({ runsDir: queueRuns, port: 0, queue: redis.url }).catch(async (e: unknown) => {
      await redis.stop();
      throw e;
    });
    try {
      const sweep = await enqueueSweep(queueDir, queueRuns, redis.url, 4);
      await load(withQueue.url);
      await page.waitForSelector('#runs-table tr.queued-row');
      const rows = await page.$$eval('#runs-table tbody tr.queued-row', (trs) =>
        trs.map((tr) => [tr.querySelector('td.name')!.textContent, tr.querySelector('td.status .badge')!.textContent, tr.querySelector('td.status .queue-info')!.textContent, tr.querySelectorAll('input').length]),
      );
      expect(rows).toEqual([
        [`tiny/${sweep} seed=1`, 'queued', `sweep ${sweep} seed=1 · waits for a worker`, 0],
        [`tiny/${sweep} seed=2`, 'queued', `sweep ${sweep} seed=2 · waits for a worker`, 0],
      ]);
      expect(await page.content()).not.toContain(secret);
      await redis.kill();
      await page.waitForSelector('#live-status.error', { timeout: 15_000 });
      expect(await page.textContent('#live-status')).toMatch(new RegExp(`cannot read the queue at 127\\.0\\.0\\.1:${redis.port} \\(redis://:\\*\\*\\*@127`));
      expect(await page.content()).not.toContain(secret);
    } finally {
      // Leave the page first: its next poll of a closed server would be a console error.
      await page.goto('about:blank');
      await withQueue.close();
      await redis.stop();
    }
  });

  it('starts where the browser reports a language Intl rejects (en-US@posix: Chromium under LANG=C), as en-US', async () => {
    const b = bundledChromium();
    const other = await chromium.launch({ executablePath: b.executablePath, env: b.env, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const p = await other.newPage({ locale: 'en-US@posix' });
      const errors: string[] = [];
      p.on('pageerror', (e) => errors.push(e.message));
      await p.goto(server.url);
      // Without src/client/locale.ts uPlot threw "Invalid language tag: en-US@posix" as the bundle loaded: no page at all.
      await p.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
      expect(errors).toEqual([]);
      expect(await p.evaluate(() => navigator.language)).toBe('en-US');
      expect(await p.$$eval('#runs-table tbody tr', (trs) => trs.length)).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
