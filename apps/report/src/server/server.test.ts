import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRuns, XSS_RUN, LOSS_POINTS } from '../testing/fixtures.js';
import type { MetricsPayload, RunsPayload, SamplesPayload } from '../shared/types.js';
import { startReportServer, type ReportServer } from './server.js';

let root: string;
let server: ReportServer;
const SECRET = 'TOP-SECRET-OUTSIDE-RUNS';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'report-server-'));
  writeFixtureRuns(join(root, 'runs'));
  writeFileSync(join(root, 'secret.txt'), SECRET);
  server = await startReportServer({ runsDir: join(root, 'runs'), port: 0 });
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

/** A raw request: the path goes on the wire exactly as given (fetch would normalise `..`). */
function raw(path: string, method = 'GET', headers: Record<string, string> = {}, url = server.url): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const { port } = new URL(url);
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('report server', () => {
  it('binds 127.0.0.1 by default', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves the page with a CSP that forbids inline script, and the bundle', async () => {
    const page = await raw('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('<script src="/app.js"></script>');
    const js = await raw('/app.js');
    expect(js.status).toBe(200);
    expect(js.body.length).toBeGreaterThan(20_000);
    // uPlot and the app ~85 KB, the ECharts parts (parallel, scatter, lines) ~570 KB.
    expect(js.body.length).toBeLessThan(800_000);
  });

  it('lists runs with error rows for bad folders', async () => {
    const payload = JSON.parse((await raw('/api/runs')).body) as RunsPayload;
    expect(payload.runs).toHaveLength(13);
    const errors = payload.runs.filter((r) => !r.ok).map((r) => `${r.id}: ${r.error}`);
    expect(errors).toEqual([
      'broken/corrupt: broken/corrupt/meta.json: invalid JSON (Unterminated string in JSON at position 34)',
      'broken/half-written: broken/half-written/meta.json: missing (half-written run, or not a run folder)',
    ]);
    const live = payload.runs.find((r) => r.id === 'paper/sllm-h8-live')!;
    expect(live.status).toBe('running');
    expect(live.metrics?.loss?.count).toBe(LOSS_POINTS);
  });

  it('serves metrics and samples of a listed run only', async () => {
    const metrics = JSON.parse((await raw(`/api/metrics?run=${encodeURIComponent('paper/token-lm')}`)).body) as MetricsPayload;
    expect(metrics.series.loss?.step).toHaveLength(LOSS_POINTS);
    expect(metrics.series.loss?.step.slice(0, 3)).toEqual([0, 4, 8]);
    const samples = JSON.parse((await raw(`/api/samples?run=${encodeURIComponent(`paper/${XSS_RUN}`)}`)).body) as SamplesPayload;
    expect(samples.samples[0]?.output).toContain('<b>bold</b>');
  });

  it('serves nothing outside the runs folder (path traversal)', async () => {
    const attempts = [
      '/../secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e/%2e%2e/secret.txt',
      '/app.js/../../secret.txt',
      '/runs/../secret.txt',
      '/api/metrics?run=../secret.txt',
      '/api/metrics?run=..%2F..%2Fsecret.txt',
      '/api/samples?run=paper/../../secret.txt',
      '/api/metrics?run=%2Fetc%2Fpasswd',
      '/api/samples?run=paper%2F..%2F..',
      '/api/embeddings?run=../secret.txt',
      '/api/embeddings?run=paper%2F..%2F..%2Fsecret.txt',
      '/paper/token-lm/embeddings.json',
      '//etc/passwd',
      '/paper/token-lm/meta.json',
    ];
    for (const path of attempts) {
      const res = await raw(path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain(SECRET);
      expect(res.body, path).not.toContain('root:');
    }
  });

  it('answers only GET and HEAD', async () => {
    expect((await raw('/api/runs', 'POST')).status).toBe(405);
    const head = await raw('/api/runs', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers only loopback Host names (no DNS rebinding) unless bound to another address', async () => {
    const { port } = new URL(server.url);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'app.localhost']) {
      expect((await raw('/api/runs', 'GET', { Host: host })).status).toBe(200);
    }
    for (const host of [`evil.example:${port}`, 'evil.example', '127.0.0.1.evil.example', '10.0.0.1']) {
      const refused = await raw('/api/runs', 'GET', { Host: host });
      expect(refused.status).toBe(421);
      expect(refused.body).toContain('answers loopback names only');
      expect(refused.body).not.toContain('paper/');
    }
    const open = await startReportServer({ runsDir: join(root, 'runs'), host: '0.0.0.0', port: 0 });
    try {
      expect((await raw('/api/runs', 'GET', { Host: 'my-lab-box:4173' }, open.url)).status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it('error bodies name files relative to the runs folder, never by absolute path', async () => {
    writeFileSync(join(root, 'runs', 'paper', 'token-lm', 'metrics.arrow'), 'not arrow at all');
    const failed = await raw(`/api/metrics?run=${encodeURIComponent('paper/token-lm')}`);
    expect(failed.status).toBe(500);
    expect(failed.body).toContain('paper/token-lm/metrics.arrow');
    expect(failed.body).not.toContain(root);
  });
});
