import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildAssets, servedPage, type AppAssets } from './page.js';
import { RunsStore } from './store.js';

export interface ReportServerOptions {
  runsDir: string;
  /** Default 127.0.0.1: reachable from this machine only. */
  host?: string;
  /** Default 4173; 0 picks a free port. */
  port?: number;
}

export interface ReportServer {
  url: string;
  server: Server;
  store: RunsStore;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

/**
 * Serves the app (page, script, stylesheet) and JSON derived from the runs folder through
 * @sentencelab/runs. Nothing else: no file path is ever built from the request.
 */
export async function startReportServer(options: ReportServerOptions): Promise<ReportServer> {
  const store = new RunsStore(options.runsDir);
  // Read every run once before listening, so the first page load finds a warm cache.
  const [assets] = await Promise.all([buildAssets(), store.runsJson()]);
  const server = createServer((req, res) => {
    handle(req, res, store, assets).catch((error: unknown) => {
      send(res, 500, 'application/json', JSON.stringify({ error: (error as Error).message }));
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4173, host, () => resolvePromise());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    server,
    store,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.closeAllConnections();
        server.close(() => resolvePromise());
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, store: RunsStore, assets: AppAssets): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'application/json', JSON.stringify({ error: 'only GET' }), { Allow: 'GET, HEAD' });
    return;
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  switch (url.pathname) {
    case '/':
    case '/index.html':
      return send(res, 200, 'text/html; charset=utf-8', servedPage());
    case '/app.js':
      return send(res, 200, 'text/javascript; charset=utf-8', assets.js);
    case '/app.css':
      return send(res, 200, 'text/css; charset=utf-8', assets.css);
    case '/favicon.ico':
      res.writeHead(204, SECURITY_HEADERS);
      res.end();
      return;
    case '/api/runs':
      return send(res, 200, 'application/json; charset=utf-8', await store.runsJson());
    case '/api/metrics':
    case '/api/samples': {
      const id = url.searchParams.get('run') ?? '';
      const payload = url.pathname === '/api/metrics' ? await store.metrics(id) : await store.samples(id);
      if (!payload) return send(res, 404, 'application/json', JSON.stringify({ error: `no run "${id}" in the runs folder` }));
      return sendJson(res, payload);
    }
    default:
      return send(res, 404, 'application/json', JSON.stringify({ error: 'not found' }));
  }
}

function sendJson(res: ServerResponse, value: unknown): void {
  send(res, 200, 'application/json; charset=utf-8', JSON.stringify(value));
}

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': 'no-store',
    ...SECURITY_HEADERS,
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
