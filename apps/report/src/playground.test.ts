import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReportServer, type ReportServer } from './server/server.js';
import { exportStatic } from './server/static-export.js';
import { bundledChromium } from './testing/chromium.js';
import { expGenerate, expLens, trainPlaygroundRuns, type GenerateArgs, type PlaygroundRuns } from './testing/playground-runs.js';
import type { LensView } from './client/playground-model.js';

const SCREENSHOTS = Boolean(process.env.REPORT_SCREENSHOTS);
const SHOTS = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));

let work: string;
let runs: PlaygroundRuns;
let server: ReportServer;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
/** Sampling (temperature > 0) with a seed: the RNG's draws must match too, not only argmax. */
/** Two sentences: the page must segment them as Node does. */
const GEN: GenerateArgs = { prompt: 'The cat sat on the mat. It purred in the sun.', temperature: 1, maxSentences: 2, seed: 7 };
let expected: Promise<Texts>;

interface Texts {
  lm: string;
  sllm: string;
  head: string;
}

beforeAll(async () => {
  work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'report-playground-'));
  // The server lists runs as they appear: it starts, bundles /playground.js and the browser
  // launches while the runs train.
  server = await startReportServer({ runsDir: join(work, 'runs'), cacheDir: join(work, 'cache'), port: 0 });
  const bundled = fetch(`${server.url}playground.js`).then((r) => r.text());
  const browser = bundledChromium();
  const launched = chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: browser.executablePath,
    env: browser.env,
    locale: 'en-US',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  runs = await trainPlaygroundRuns(work);
  // Node's continuations (two child processes) while the browser generates.
  expected = Promise.all([expGenerate(runs, runs.lm, GEN), expGenerate(runs, runs.sllm, GEN), expGenerate(runs, runs.mse, GEN)]).then(([lm, sllm, head]) => ({ lm, sllm, head }));
  expected.catch(() => {});
  context = await launched;
  await bundled;
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
});

afterAll(async () => {
  // The exp generate children finish before their folder goes.
  await expected?.catch(() => {});
  await context?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

async function openPlayground(url = server.url): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('body[data-loaded="true"]');
  await page.click('#tab-playground');
  await page.waitForSelector('#pg-generate');
}

async function generateIn(backend: string): Promise<Texts> {
  await page.selectOption('#pg-backend', backend);
  await page.fill('#pg-prompt', GEN.prompt);
  await page.fill('#pg-temperature', String(GEN.temperature));
  await page.fill('#pg-max-sentences', String(GEN.maxSentences));
  await page.fill('#pg-seed', String(GEN.seed));
  await page.click('#pg-generate');
  await page.waitForSelector('#playground[data-state="done"]');
  const text = (kind: string) => page.$eval(`#pg-${kind} .pg-text`, (el) => el.textContent ?? '');
  return { lm: await text('token-lm'), sllm: await text('sllm'), head: await text('head') };
}

describe('server: run files by run id and role only', () => {
  it('serves a listed run\'s checkpoint and tokenizer with their length and sha256', async () => {
    const info = (await (await fetch(`${server.url}api/playground?run=${encodeURIComponent(runs.sllm)}`)).json()) as { kind: string; files: Record<string, { bytes: number; sha256: string }> };
    expect(info.kind).toBe('sllm');
    const res = await fetch(`${server.url}api/run-file?run=${encodeURIComponent(runs.sllm)}&role=checkpoint`);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(info.files['checkpoint']!.bytes);
    expect(body.length).toBe(info.files['checkpoint']!.bytes);
    expect(res.headers.get('x-content-sha256')).toBe(info.files['checkpoint']!.sha256);
    expect(Buffer.from(await crypto.subtle.digest('SHA-256', body)).toString('hex')).toBe(info.files['checkpoint']!.sha256);
  });

  it('refuses paths, traversal, unlisted runs and unknown roles', async () => {
    const get = async (query: string) => {
      const res = await fetch(`${server.url}api/run-file?${query}`);
      return { status: res.status, body: await res.text() };
    };
    const lm = encodeURIComponent(runs.lm);
    for (const run of ['play/..', '../runs/' + runs.lm, join(runs.runsDir, runs.lm), '/etc/passwd', 'play/nope']) {
      const r = await get(`run=${encodeURIComponent(run)}&role=checkpoint`);
      expect(r.status, run).toBe(404);
      expect(r.body).toContain('in the runs folder');
    }
    for (const role of ['../meta.json', 'config.yaml', join(runs.runsDir, runs.lm, 'meta.json'), 'checkpoint/../../x']) {
      const r = await get(`run=${lm}&role=${encodeURIComponent(role)}`);
      expect(r.status, role).toBe(404);
      expect(r.body).toContain('no file role');
    }
    // A path in the URL itself is no route.
    expect((await fetch(`${server.url}api/run-file/../../${runs.lm}/meta.json`)).status).toBe(404);
    expect((await fetch(`${server.url}tfjs/..%2Fpackage.json`)).status).toBe(404);
    expect(JSON.stringify(await (await fetch(`${server.url}api/playground?run=${lm}`)).json())).not.toContain(work);
  });

  it('a run whose artifact is not in the stage cache is explained, naming the run and the fix', async () => {
    const elsewhere = await startReportServer({ runsDir: runs.runsDir, cacheDir: join(work, 'no-cache'), port: 0 });
    try {
      const res = await fetch(`${elsewhere.url}api/playground?run=${encodeURIComponent(runs.lm)}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: string }).error).toMatch(new RegExp(`^run ${runs.lm}: its artifact [0-9a-f]{12} is not in the stage cache .*--cache-dir`));
    } finally {
      await elsewhere.close();
    }
  });
});

describe('playground in Chromium (wasm backend)', () => {
  it('generates the same text as pnpm exp generate for the same seed: token LM, SLLM and concept head side by side', async () => {
    await openPlayground();
    const got = await generateIn('wasm');
    expect(await page.textContent('#pg-backend-name')).toMatch(/^backend: wasm/);
    const want = await expected;
    for (const text of Object.values(want)) expect(text.trim().length, JSON.stringify(want)).toBeGreaterThan(0);
    expect(got).toEqual(want);
    for (const kind of ['token-lm', 'sllm']) {
      expect(await page.textContent(`#pg-${kind} .pg-stats`)).toMatch(/^\d+ tokens · [\d.]+ tokens\/s · KV cache [\d.]+ (B|KB|MB) \(peak [\d.]+ (B|KB|MB)\)$/);
      expect(await page.textContent(`#pg-${kind} .pg-status`)).toMatch(/parameters, .* loaded and checked \(sha256\)/);
    }
    expect(await page.textContent('#pg-head .pg-stats')).toMatch(/^\d+ sentences · [\d.]+ sentences\/s · no KV cache/);
    expect(await page.textContent('#pg-run-head')).toContain(runs.mse);
    if (SCREENSHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.locator('#panel').screenshot({ path: join(SHOTS, 'playground.png') });
    }
    expect(pageErrors).toEqual([]);
  });

  it("a diffusion head with the page's sampler choices generates what exp generate does with the same flags; a choice it cannot use or a bad value is refused by name", async () => {
    const flags = ['--feedback', 'reencode', '--guidance', '1', '--initial-noise', '1', '--sampling-steps', '2', '--eta', '0.5'];
    const want = expGenerate(runs, runs.diffusion, { ...GEN, flags });
    await openPlayground();
    await page.selectOption('#pg-run-head', runs.diffusion);
    await page.selectOption('#pg-feedback', 'reencode');
    for (const [id, v] of [['guidance', '1'], ['initial-noise', '1'], ['sampling-steps', '2'], ['eta', '0.5']]) await page.fill(`#pg-${id}`, v!);
    const got = await generateIn('wasm');
    const text = await want;
    expect(text.trim().length).toBeGreaterThan(0);
    expect(got.head).toBe(text);
    // The run's own sampler (fields empty) draws other vectors from the same seed.
    for (const id of ['guidance', 'initial-noise', 'sampling-steps', 'eta']) await page.fill(`#pg-${id}`, '');
    expect((await generateIn('wasm')).head).not.toBe(text);

    // A Base-LCM head has no sampler: the column says which field to clear.
    await page.selectOption('#pg-run-head', runs.mse);
    await page.fill('#pg-initial-noise', '1');
    await generateIn('wasm');
    expect(await page.textContent('#pg-head .pg-status[role="alert"]')).toBe(`initial noise applies to diffusion heads (lcm-diffusion) only; ${runs.mse} is a lcm-mse head (clear the field)`);
    expect(await page.getAttribute('#pg-token-lm', 'data-state')).toBe('done');
    // A value no sampler takes: nothing runs, the page says which field.
    await page.fill('#pg-initial-noise', '');
    await page.fill('#pg-sampling-steps', '0');
    await generateIn('wasm');
    expect(await page.textContent('#pg-backend-name')).toBe('sampling steps must be a whole number >= 1 (got "0"), or empty for the run\'s own setting');
    await page.fill('#pg-sampling-steps', '');
    // With the fields cleared the Base-LCM head generates, its earlier error gone.
    await generateIn('wasm');
    expect(await page.getAttribute('#pg-head', 'data-state')).toBe('done');
    expect(await page.$('#pg-head .pg-status[role="alert"]')).toBeNull();
    expect(await page.textContent('#pg-head .pg-status')).toMatch(/parameters, .* loaded and checked \(sha256\)/);
    expect(pageErrors).toEqual([]);
  });

  it('Lens: the SLLM\'s, the Base-LCM head\'s and the energy head\'s SentenceLens in the browser equal pnpm exp lens; the token LM and a diffusion head say why they have none', async () => {
    const maxTokens = 12;
    const want = Promise.all([expLens(runs, runs.sllm, GEN.prompt, maxTokens), expLens(runs, runs.mse, GEN.prompt, maxTokens)]);
    const energy = expLens(runs, runs.energy, GEN.prompt, maxTokens);
    await openPlayground();
    await page.selectOption('#pg-backend', 'wasm');
    await page.fill('#pg-prompt', GEN.prompt);
    await page.fill('#pg-max-tokens', String(maxTokens));
    await page.selectOption('#pg-run-head', runs.mse);
    await page.click('#pg-lens');
    await page.waitForSelector('#playground[data-state="done"]');
    // The grid as exp lens prints it: each row's texts, then each layer's cells (text, then scores).
    const grid = (kind: string) =>
      page.$eval(`#pg-${kind} .pg-lens-table`, (table) => ({
        read: [...table.querySelectorAll('.pg-lens-read td')].map((td) => td.textContent),
        next: [...table.querySelectorAll('.pg-lens-target td')].map((td) => td.textContent),
        layers: [...table.querySelectorAll('.pg-lens-layer')].map((tr) => [...tr.querySelectorAll('td')].map((td) => [td.querySelector('.pg-lens-text')!.textContent, td.querySelector('.pg-lens-score')!.textContent])),
      }));
    const score = (v: number | null) => (v === null ? '-' : v.toFixed(2));
    const expected = (v: LensView) => ({
      read: v.sentences,
      next: v.targets.map((t) => t ?? '(none: the text ends)'),
      layers: v.cells.map((row) => row.map((c) => [c.text || '(empty)', `cos ${score(c.cosine)} F1 ${score(c.f1)}`])),
    });
    const [sllm, mse] = await want;
    expect(sllm.sentences).toHaveLength(2);
    expect(sllm.cells.length).toBeGreaterThan(0);
    expect(sllm.cells[0]![0]!.cosine).not.toBeNull();
    expect(await grid('sllm')).toEqual(expected(sllm));
    expect(await grid('head')).toEqual(expected(mse));
    expect(await page.textContent('#pg-sllm .pg-stats')).toMatch(/^lens: \d+ layers? x 2 sentences in [\d.]+ s$/);
    expect(await page.textContent('#pg-token-lm .pg-lens')).toBe('no lens: a token LM has no sentence states to decode');
    if (SCREENSHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.locator('#panel').screenshot({ path: join(SHOTS, 'playground-lens.png') });
    }
    await page.selectOption('#pg-run-head', runs.diffusion);
    await page.click('#pg-lens');
    await page.waitForSelector('#playground[data-state="done"]');
    expect(await page.textContent('#pg-head .pg-lens')).toMatch(/^no lens: only Base-LCM \(lcm-mse\) and energy \(lcm-energy\) heads have a lens/);
    // The energy head: its generator reads each layer's state, one noise draw for every cell.
    await page.selectOption('#pg-run-head', runs.energy);
    await page.click('#pg-lens');
    await page.waitForSelector('#playground[data-state="done"]');
    expect(await grid('head')).toEqual(expected(await energy));
    expect(pageErrors).toEqual([]);
  });

  it('a corrupted or truncated checkpoint transfer is an error naming the run and file', async () => {
    const checkpoint = `${runs.sllm}: checkpoint model.safetensors`;
    for (const damage of ['corrupt', 'truncate'] as const) {
      await page.unrouteAll();
      await page.route('**/api/run-file?*', async (route) => {
        const url = new URL(route.request().url());
        if (url.searchParams.get('role') !== 'checkpoint' || url.searchParams.get('run') !== runs.sllm) return route.continue();
        const res = await route.fetch();
        const body = Buffer.from(await res.body());
        if (damage === 'corrupt') body[body.length >> 1] = body[body.length >> 1]! ^ 0xff;
        await route.fulfill({ status: 200, headers: res.headers(), body: damage === 'truncate' ? body.subarray(0, body.length - 100) : body });
      });
      // A fresh page: models are kept per page once loaded.
      await openPlayground();
      await generateIn('wasm');
      const error = await page.textContent('#pg-sllm .pg-status[role="alert"]');
      expect(error, damage).toContain(checkpoint);
      expect(error).toMatch(damage === 'corrupt' ? /corrupted transfer, sha256 [0-9a-f]{64} is not [0-9a-f]{64}/ : /truncated transfer|broke off after \d+ of \d+ bytes/);
      // The token LM's files were not touched: it still generates.
      expect(await page.getAttribute('#pg-token-lm', 'data-state')).toBe('done');
    }
    await page.unrouteAll();
  });

  it('a static export\'s playground tab says it needs pnpm report', async () => {
    const { file } = await exportStatic(runs.runsDir, join(work, 'static'));
    await page.goto(`file://${file}`);
    await page.waitForSelector('body[data-loaded="true"]');
    await page.click('#tab-playground');
    expect(await page.textContent('#playground-static')).toContain('start pnpm report to use it');
  });
});
