import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RunFiles } from './files.js';
import { buildAssets, servedPage, type AppAssets } from './page.js';
import { PlaygroundRoutes } from './playground-routes.js';
import { mergeQueue, QueueReader } from './queue-rows.js';
import { relativeTo, RunsStore } from './store.js';

export interface ReportServerOptions {
  runsDir: string;
  /**
   * Default 127.0.0.1: reachable from this machine only, and only requests whose Host header
   * is a loopback name are answered (a web page on another origin cannot reach it through DNS
   * rebinding). A non-loopback address (`0.0.0.0`, a LAN address) serves any Host name.
   */
  host?: string;
  /** Default 4173; 0 picks a free port. */
  port?: number;
  /**
   * A sweep queue (`redis://[:password@]host[:port][/db]`, as `pnpm exp run --queue`): its
   * queued, running and failed points are listed next to the run folders. Checked before the
   * server listens; its password is never sent to the page.
   */
  queue?: string;
  /**
   * The stage artifact cache of `pnpm exp` (its `--cache-dir`, default `.cache/stages`), where
   * the playground finds a run's checkpoint and tokenizer.
   */
  cacheDir?: string;
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
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

/**
 * Serves the app (page, script, stylesheet) and JSON derived from the runs folder through
 * @sentencelab/runs. Nothing else: no file path is ever built from the request.
 */
export async function startReportServer(options: ReportServerOptions): Promise<ReportServer> {
  const store = new RunsStore(options.runsDir);
  const queue = options.queue !== undefined ? await QueueReader.open(options.queue) : undefined;
  const runsJson = queue
    ? async () => JSON.stringify(mergeQueue(await store.runs(), store.root, queue.url, await queue.read()))
    : () => store.runsJson();
  // Read every run once before listening, so the first page load finds a warm cache.
  const [assets] = await Promise.all([buildAssets(), store.runsJson()]).catch(async (error: unknown) => {
    await queue?.close();
    throw error;
  });
  const playground = new PlaygroundRoutes(new RunFiles(store, options.cacheDir ?? '.cache/stages'), send, SECURITY_HEADERS);
  const host = options.host ?? '127.0.0.1';
  const anyHostName = !isLoopback(host);
  const server = createServer((req, res) => {
    const name = hostNameOf(req.headers.host);
    if (!anyHostName && (name === undefined || !isLoopback(name))) {
      send(res, 421, 'application/json', JSON.stringify({ error: `Host ${JSON.stringify(req.headers.host ?? '')} is not served: this report answers loopback names only (localhost, 127.0.0.1, [::1]); start it with --host <address> to serve other names` }));
      return;
    }
    handle(req, res, store, assets, runsJson, playground).catch((error: unknown) => {
      // Messages name files relative to the runs folder: no absolute paths leave the machine.
      send(res, 500, 'application/json', JSON.stringify({ error: relativeTo(store.root, (error as Error).message) }));
    });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4173, host, () => resolvePromise());
  }).catch(async (error: unknown) => {
    await queue?.close();
    throw error;
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
      }).then(() => queue?.close()),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, store: RunsStore, assets: AppAssets, runsJson: () => Promise<string>, playground: PlaygroundRoutes): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'application/json', JSON.stringify({ error: 'only GET' }), { Allow: 'GET, HEAD' });
    return;
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (await playground.handle(req, res, url)) return;
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
      return send(res, 200, 'application/json; charset=utf-8', await runsJson());
    case '/api/metrics':
    case '/api/samples':
    case '/api/embeddings': {
      const id = url.searchParams.get('run') ?? '';
      const payload = url.pathname === '/api/metrics' ? await store.metrics(id) : url.pathname === '/api/samples' ? await store.samples(id) : await store.embeddings(id);
      if (!payload) return send(res, 404, 'application/json', JSON.stringify({ error: `no run "${id}" in the runs folder` }));
      return sendJson(res, payload);
    }
    default:
      return send(res, 404, 'application/json', JSON.stringify({ error: 'not found' }));
  }
}

/** The host name of a Host header (`localhost:4173` -> `localhost`, `[::1]:80` -> `::1`). */
function hostNameOf(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  try {
    return new URL(`http://${header}`).hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  } catch {
    return undefined;
  }
}

function isLoopback(name: string): boolean {
  const n = name.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return n === 'localhost' || n.endsWith('.localhost') || n === '::1' || /^127(\.\d{1,3}){3}$/.test(n);
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
