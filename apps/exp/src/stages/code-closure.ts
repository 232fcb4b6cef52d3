/**
 * Which of the exp app's own source files a stage's artifact depends on: the files reachable
 * by relative imports from the code that runs stages (the stage registry, the pipeline
 * executor, the backend start-up). Only these go into a stage's code version, so editing a
 * command, `exp results`, the queue or the CLI does not make every cached stage train again.
 * `code-closure.test.ts` checks this walk against esbuild's module graph of the same entries.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The modules, relative to the exp app's `src/`, that run a stage (everything they import counts). */
export const STAGE_CODE_ENTRIES: readonly string[] = ['stages/registry.ts', 'pipeline/execute.ts', 'backend.ts'];

/** `from './x.js'`, `import './x.js'`, `import('./x.js')`, `export * from '../y.js'`: a relative module specifier. */
const RELATIVE_IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"\n]+)['"]/g;

/**
 * The files under `srcRoot` reachable from `entries` (paths relative to it) through relative
 * imports, type-only ones included, as sorted paths relative to `srcRoot`. A specifier that
 * names no file (in a comment, say) is skipped; package imports are not followed (a stage's
 * packages are hashed whole, by name).
 */
export function codeClosure(srcRoot: string, entries: readonly string[]): string[] {
  const root = resolve(srcRoot);
  const seen = new Set<string>();
  const pending = entries.map((e) => {
    const file = join(root, e);
    if (!isFile(file)) throw new Error(`codeClosure: entry ${e} is not a file under ${root}`);
    return file;
  });
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(RELATIVE_IMPORT)) {
      const target = resolveModule(dirname(file), m[1]!);
      if (target !== undefined && !seen.has(target)) pending.push(target);
    }
  }
  return [...seen].map((f) => relative(root, f)).sort();
}

/** A relative specifier as TypeScript's NodeNext resolution reads it: `./x.js` is `./x.ts` in the sources. */
function resolveModule(fromDir: string, specifier: string): string | undefined {
  const base = resolve(fromDir, specifier);
  const candidates = /\.[cm]?js$/.test(base)
    ? [base.replace(/\.([cm]?)js$/, '.$1ts'), base]
    : [base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find(isFile);
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}
