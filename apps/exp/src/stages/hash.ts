import { createHash, type Hash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeClosure, STAGE_CODE_ENTRIES } from './code-closure.js';

/** JSON with object keys sorted at every level, so equal values always hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

/**
 * A copy of `value` without the dotted `paths` (`model.sampling`: the key sampling of
 * value.model); absent paths are ignored, and an object a removal leaves empty goes too (a
 * config that sets `guidance: {scale: 1}` trains as one that leaves guidance out).
 */
export function withoutPaths(value: unknown, paths: readonly string[]): unknown {
  const copy = structuredClone(value);
  for (const path of paths) {
    const keys = path.split('.');
    const parents: Record<string, unknown>[] = [];
    let node: unknown = copy;
    for (const k of keys.slice(0, -1)) {
      if (node === null || typeof node !== 'object') break;
      parents.push(node as Record<string, unknown>);
      node = (node as Record<string, unknown>)[k];
    }
    if (parents.length !== keys.length - 1 || node === null || typeof node !== 'object') continue;
    delete (node as Record<string, unknown>)[keys.at(-1)!];
    // Empty objects left behind, innermost first.
    for (let i = parents.length - 1; i >= 0; i--) {
      const child = parents[i]![keys[i]!];
      if (child !== null && typeof child === 'object' && !Array.isArray(child) && Object.keys(child).length === 0) delete parents[i]![keys[i]!];
      else break;
    }
  }
  return copy;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The content hash of a stage (see `Artifact.hash`), hex, 64 characters. */
export function stageHash(parts: {
  kind: string;
  config: unknown;
  shared: unknown;
  inputs: Record<string, string | string[]>;
  code: string;
  /** What the backend's numbers depend on (its kernels); absent when planning without one. */
  computedOn?: Record<string, string>;
  /** 'training': a training hash (the config less its evaluation-only options), never equal to a stage hash. */
  scope?: 'training';
}): string {
  return sha256(canonicalJson(parts));
}

/** The exp app's own folder (its stages and training loop are part of every stage's code). */
const expRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const codeCache = new Map<string, string>();

/** The folder of an installed package (workspace packages are linked into node_modules). */
export function packageRoot(name: string): string {
  for (let dir = expRoot; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) throw new Error(`package ${name} is not installed (looked in node_modules above ${expRoot})`);
  }
}

/**
 * The code version of a set of packages: a digest of their `package.json` and every source
 * file under `src/` (or `dist/` when published without sources), tests excluded, and of the
 * exp app's own files that run stages ({@link codeClosure}: not its commands, results, queue
 * or CLI). Editing a model's code changes the hash of the stages that run it, committed or not.
 */
export function codeVersion(packages: readonly string[]): string {
  const key = [...packages].sort().join(' ');
  const hit = codeCache.get(key);
  if (hit !== undefined) return hit;
  const h = createHash('sha256');
  for (const name of [...packages].sort()) {
    const dir = packageRoot(name);
    const src = join(dir, 'src');
    const files = listFiles(exists(src) ? src : join(dir, 'dist')).filter((f) => !/\.test\.[cm]?[jt]s$/.test(f) && /\.([cm]?[jt]s|json|wgsl|cc|h)$/.test(f));
    hashFiles(h, name, dir, files);
  }
  hashFiles(h, '@sentencelab/exp', expRoot, expStageFiles());
  const digest = h.digest('hex').slice(0, 16);
  codeCache.set(key, digest);
  return digest;
}

let expFiles: string[] | undefined;

/** The exp app's files that run stages ({@link codeClosure}), walked once per process: every stage kind shares them. */
function expStageFiles(): string[] {
  const src = join(expRoot, 'src');
  return (expFiles ??= codeClosure(src, STAGE_CODE_ENTRIES).map((f) => join(src, f)));
}

function hashFiles(h: Hash, name: string, dir: string, files: readonly string[]): void {
  h.update(`${name}\n`);
  h.update(readFileSync(join(dir, 'package.json')));
  for (const file of files) {
    h.update(`${relative(dir, file)}\n`);
    h.update(readFileSync(file));
  }
}

function exists(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function listFiles(dir: string): string[] {
  if (!exists(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
