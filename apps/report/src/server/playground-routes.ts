/**
 * The playground's part of the server: its script (bundled on first request: the model code
 * and tfjs backends are ~1.7 MB that the rest of the app never loads), the tfjs wasm binaries
 * by fixed name, a run's model description, and a run's files by run id and role.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { SHA256_HEADER } from '../shared/playground.js';
import { RunFileError, type RunFiles } from './files.js';

const entry = fileURLToPath(new URL('../../src/client/playground-main.ts', import.meta.url));

/** The tfjs wasm backend's binaries, served under /tfjs/ by these names only. */
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/**
 * Model packages import node:fs / node:crypto for the parts a browser never calls (checkpoint
 * files, backend selection in Node). Those imports become an object whose every function
 * throws, naming the module: a browser path that reached one would fail loudly.
 */
const nodeBuiltinsUnavailable: Plugin = {
  name: 'node-builtins-unavailable',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: 'node-unavailable' }));
    b.onLoad({ filter: /.*/, namespace: 'node-unavailable' }, (a) => ({
      loader: 'js',
      contents: `module.exports = new Proxy({}, { get: (_, key) => key === '__esModule' ? false : () => { throw new Error(${JSON.stringify(a.path)} + '.' + String(key) + ' is not available in the browser'); } });`,
    }));
  },
};

/** Bundles the playground (model packages + tfjs backends) for the browser, minified. */
export async function buildPlaygroundScript(): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    platform: 'browser',
    // The workspace packages' TypeScript sources, as `pnpm report` itself runs them.
    conditions: ['source'],
    plugins: [nodeBuiltinsUnavailable],
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

export type Send = (res: ServerResponse, status: number, type: string, body: string, extra?: Record<string, string>) => void;

export class PlaygroundRoutes {
  private script: Promise<string> | undefined;
  private readonly wasmDir: string;

  constructor(
    private readonly files: RunFiles,
    private readonly send: Send,
    private readonly headers: Record<string, string>,
  ) {
    const require = createRequire(import.meta.url);
    this.wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  }

  /** Serves `url` when it is the playground's; false when it is not. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const json = (status: number, value: unknown) => this.send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
    if (url.pathname === '/playground.js') {
      this.script ??= buildPlaygroundScript().catch((error: unknown) => {
        this.script = undefined;
        throw error;
      });
      this.send(res, 200, 'text/javascript; charset=utf-8', await this.script);
      return true;
    }
    if (url.pathname.startsWith('/tfjs/')) {
      const name = url.pathname.slice('/tfjs/'.length);
      if (!WASM_FILES.includes(name)) {
        json(404, { error: 'not found' });
        return true;
      }
      const body = readFileSync(join(this.wasmDir, name));
      res.writeHead(200, { 'Content-Type': 'application/wasm', 'Content-Length': body.length, 'Cache-Control': 'max-age=3600', ...this.headers });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    }
    if (url.pathname !== '/api/playground' && url.pathname !== '/api/run-file') return false;
    const id = url.searchParams.get('run') ?? '';
    try {
      if (url.pathname === '/api/playground') {
        json(200, await this.files.info(id));
        return true;
      }
      const file = await this.files.open(id, url.searchParams.get('role') ?? '');
      res.writeHead(200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': file.bytes,
        [SHA256_HEADER]: file.sha256,
        'Cache-Control': 'no-store',
        ...this.headers,
      });
      if (req.method === 'HEAD') {
        res.end();
        return true;
      }
      const stream = file.stream();
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    } catch (error) {
      if (!(error instanceof RunFileError)) throw error;
      json(error.status, { error: error.message });
    }
    return true;
  }
}
