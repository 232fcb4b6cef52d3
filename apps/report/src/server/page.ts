import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// The client is always bundled from its TypeScript sources (shipped in `src/`), whether the
// server runs from src/server or dist/server: both sit two levels below the package root.
const clientEntry = fileURLToPath(new URL('../../src/client/main.ts', import.meta.url));
const clientCss = fileURLToPath(new URL('../../src/client/style.css', import.meta.url));

export interface AppAssets {
  js: string;
  css: string;
}

let built: Promise<AppAssets> | undefined;

/**
 * Bundles the browser client (TypeScript + uPlot + the ECharts parts) with esbuild into one
 * minified script, once per process (a second server or a static export reuses it).
 */
export function buildAssets(): Promise<AppAssets> {
  built ??= bundle();
  built.catch(() => (built = undefined));
  return built;
}

async function bundle(): Promise<AppAssets> {
  const result = await build({
    entryPoints: [clientEntry],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    platform: 'browser',
    // Workspace packages from their TypeScript sources (@sentencelab/runs/eval-keys), built or not.
    conditions: ['source'],
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = result.outputFiles[0]!.text;
  const require = createRequire(import.meta.url);
  const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  return { js, css: `${uplotCss}\n${readFileSync(clientCss, 'utf8')}` };
}

const HEAD = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sentencelab report</title>`;

/**
 * The page the server sends: assets by URL so the Content-Security-Policy can forbid inline
 * script. The run listing is preloaded so it downloads while the script is parsed.
 */
export function servedPage(): string {
  return `${HEAD}
<link rel="stylesheet" href="/app.css">
<link rel="preload" href="/api/runs" as="fetch" crossorigin="anonymous">
</head>
<body>
<div id="app"></div>
<script src="/app.js"></script>
</body>
</html>
`;
}

/** A single self-contained HTML file: CSS, script and data inline (JSON with `<` escaped). */
export function staticPage(assets: AppAssets, data: unknown): string {
  const json = JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  const js = assets.js.replace(/<\/(script)/gi, '<\\/$1');
  const css = assets.css.replace(/<\/(style)/gi, '<\\/$1');
  return `${HEAD}
<style>${css}</style>
</head>
<body>
<div id="app"></div>
<script type="application/json" id="sentencelab-data">${json}</script>
<script>${js}</script>
</body>
</html>
`;
}
