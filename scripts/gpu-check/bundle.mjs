// Bundles entry.ts (and the webgpu backend as a second entry sharing tfjs-core) into
// <out>/bundle/lib/*.mjs for the GPU check. Usage: node scripts/gpu-check/bundle.mjs <out-dir>
// Two levels deep on purpose: the exp app hashes the folder two levels above its module
// (apps/exp for apps/exp/src/stages/hash.ts), which for the bundle is <out>; run.sh links
// apps/exp's package.json and src/ there.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const out = process.argv[2];
if (out === undefined) {
  console.error('usage: node scripts/gpu-check/bundle.mjs <out-dir>');
  process.exit(2);
}
const outdir = join(resolve(out), 'bundle', 'lib');

// Loaded at run time from <out>/node_modules (native code, or not shipped: the check needs neither
// wasm nor `exp results`' chart rasterizer, which the results command loads lazily). The native
// backend's TypeScript is bundled (the bench imports it; its addon loads lazily and is absent on
// the server, which initBackend reports), while initBackend's own import of it by a computed
// name stays a run-time import that fails the same way.
const external = ['webgpu', 'tokenizers', '@tensorflow/tfjs-backend-wasm', '@resvg/resvg-js'];

const result = await build({
  entryPoints: { 'gpu-check': join(here, 'entry.ts'), 'tfjs-backend-webgpu': join(here, 'tfjs-backend-webgpu.ts') },
  outdir,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['source'],
  // ESM builds first: the webgpu entry re-exports the backend's named exports (a CJS build has none statically).
  mainFields: ['module', 'main'],
  // Keep every module node would run: `sideEffects: false` packages (apache-arrow) still patch
  // each other on import (Arrow.node.mjs installs its node-stream adapters).
  ignoreAnnotations: true,
  // The entry files sit outside every package: resolve bare names as apps/exp and apps/bench do.
  nodePaths: [join(root, 'apps', 'exp', 'node_modules'), join(root, 'apps', 'bench', 'node_modules')],
  external,
  outExtension: { '.js': '.mjs' },
  banner: { js: "import { createRequire as __gpuCheckCreateRequire } from 'node:module'; const require = __gpuCheckCreateRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});

// tfjs-core must exist once: every kernel registry and the engine live in that one copy.
const cores = new Set(
  Object.keys(result.metafile.inputs)
    .map((p) => /node_modules\/@tensorflow\/tfjs-core\//.test(p) && p.replace(/\/node_modules\/@tensorflow\/tfjs-core\/.*/, ''))
    .filter(Boolean),
);
if (cores.size !== 1) {
  console.error(`bundle: expected one copy of @tensorflow/tfjs-core, found ${cores.size}: ${[...cores].join(', ')}`);
  process.exit(1);
}

// The package the tensor package imports by name at run time, re-exporting the bundled backend.
const pkg = join(resolve(out), 'node_modules', '@tensorflow', 'tfjs-backend-webgpu');
mkdirSync(pkg, { recursive: true });
const version = JSON.parse(readFileSync(join(root, 'apps', 'bench', 'node_modules', '@tensorflow', 'tfjs-backend-webgpu', 'package.json'), 'utf8')).version;
writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-backend-webgpu', version, type: 'module', main: 'index.mjs' }, null, 2) + '\n');
writeFileSync(join(pkg, 'index.mjs'), `export * from '${relative(pkg, join(outdir, 'tfjs-backend-webgpu.mjs'))}';\n`);

const bytes = Object.values(result.metafile.outputs).reduce((a, o) => a + o.bytes, 0);
console.log(`bundle: ${Object.keys(result.metafile.outputs).length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB in ${relative(root, outdir)}`);
