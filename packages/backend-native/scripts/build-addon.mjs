// Builds the native addon with node-gyp during `pnpm install`; `pnpm --filter
// @sentencelab/backend-native rebuild` (or `--force`) always rebuilds, and an install rebuilds
// when the C++ sources changed since the last build. Installation never fails because of this
// script: without a compiler, or when the build breaks, it prints one line and exits 0;
// registerNativeBackend() then reports the reason.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourcesHash } from './sources-hash.mjs';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(pkgDir, 'build', 'Release', 'sentencelab_native.node');
const failureFile = join(pkgDir, 'build', 'build-failure.txt');
const hashFile = join(pkgDir, 'build', 'sources.sha256');
const force = process.argv.includes('--force') || process.env.npm_command === 'rebuild';


if (process.env.SENTENCELAB_NATIVE_SKIP_BUILD === '1') {
  console.log('@sentencelab/backend-native: SENTENCELAB_NATIVE_SKIP_BUILD=1, addon not built');
  process.exit(0);
}
const hash = sourcesHash(pkgDir);
const upToDate = existsSync(addon) && existsSync(hashFile) && readFileSync(hashFile, 'utf8').trim() === hash;
if (upToDate && !force) process.exit(0);
rmSync(failureFile, { force: true });

/** node-gyp: the one pnpm/npm put on PATH for lifecycle scripts, else npm's bundled copy. */
function nodeGypCommand() {
  const onPath = spawnSync('node-gyp', ['--version'], { encoding: 'utf8' });
  if (onPath.status === 0) return ['node-gyp', []];
  const npmDir = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' });
  const candidates = [
    npmDir.status === 0 ? join(npmDir.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js') : '',
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // node-gyp is not a dependency of this package; the PATH and npm copies are the usual ones.
  }
  const found = candidates.find((c) => c && existsSync(c));
  return found ? [process.execPath, [found]] : null;
}

function fail(reason) {
  mkdirSync(dirname(failureFile), { recursive: true });
  writeFileSync(failureFile, reason + '\n');
  console.log(`@sentencelab/backend-native: native addon not built (${reason}); tfjs backends still work.`);
  process.exit(0);
}

const gyp = nodeGypCommand();
if (!gyp) fail('node-gyp not found (neither on PATH nor bundled with npm)');
const cxx = process.env.CXX ?? 'g++';
if (spawnSync(cxx, ['--version']).status !== 0) fail(`C++ compiler "${cxx}" not found`);

// Use the headers installed next to this Node binary when they exist (no download needed).
const nodeDir = resolve(dirname(process.execPath), '..');
const args = ['rebuild', '--release'];
if (existsSync(join(nodeDir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodeDir}`);
const [cmd, pre] = gyp;
const res = spawnSync(cmd, [...pre, ...args], { cwd: pkgDir, encoding: 'utf8' });
if (res.status !== 0 || !existsSync(addon)) {
  const log = join(pkgDir, 'build', 'build-log.txt');
  mkdirSync(dirname(log), { recursive: true });
  writeFileSync(log, `${res.stdout ?? ''}\n${res.stderr ?? ''}\n${res.error ?? ''}`);
  fail(`node-gyp build failed, see ${log}`);
}
writeFileSync(hashFile, hash + '\n');
console.log(`@sentencelab/backend-native: built ${addon}`);
