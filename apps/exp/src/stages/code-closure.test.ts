import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, test } from 'vitest';
import { codeClosure, STAGE_CODE_ENTRIES } from './code-closure.js';

const expSrc = join(dirname(fileURLToPath(import.meta.url)), '..');

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'closure-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('codeClosure', () => {
  test('follows every form of relative import, type-only ones included, and nothing else', () => {
    const root = tree({
      'a.ts': [
        "import { b } from './b.js';",
        'import {',
        '  c,',
        "} from './lib/c.js';",
        "import type { T } from './types.js';",
        "import './side-effect.js';",
        "export * from './reexported.js';",
        "const lazy = () => import('./lazy.js');",
        "import { z } from 'zod';",
        "// see './missing.js' from nowhere: from './missing.js'",
      ].join('\n'),
      'b.ts': "export const b = 1;\nexport { c2 } from './lib/c2.js';\n",
      'lib/c.ts': "import { b } from '../b.js';\nexport const c = b;\n",
      'lib/c2.ts': 'export const c2 = 2;\n',
      'types.ts': 'export type T = number;\n',
      'side-effect.ts': '',
      'reexported.ts': '',
      'lazy.ts': '',
      'unused.ts': "import { b } from './b.js';\n",
      'commands/cli.ts': "import { a } from '../a.js';\n",
    });
    expect(codeClosure(root, ['a.ts'])).toEqual(['a.ts', 'b.ts', 'lazy.ts', 'lib/c.ts', 'lib/c2.ts', 'reexported.ts', 'side-effect.ts', 'types.ts']);
  });

  test('an entry that is not a file is an error naming it', () => {
    const root = tree({ 'a.ts': '' });
    expect(() => codeClosure(root, ['stages/registry.ts'])).toThrow(/entry stages\/registry\.ts is not a file under/);
  });

  test("the exp app's stage code holds every module esbuild bundles from the same entries, and not the commands, results, queue or CLI", async () => {
    const closure = codeClosure(expSrc, STAGE_CODE_ENTRIES);
    const bundled = await build({
      entryPoints: STAGE_CODE_ENTRIES.map((e) => join(expSrc, e)),
      absWorkingDir: expSrc,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      conditions: ['source'],
      packages: 'external',
      outdir: join(tmpdir(), 'closure-bundle'),
      logLevel: 'silent',
    });
    const modules = Object.keys(bundled.metafile.inputs).sort();
    expect(modules.length).toBeGreaterThan(20);
    expect(modules.filter((m) => !closure.includes(m))).toEqual([]);
    expect(closure).toEqual(expect.arrayContaining(['stages/svae.ts', 'stages/eval.ts', 'train/loop.ts', 'table.ts', 'pipeline/execute.ts']));
    expect(closure.filter((f) => /^(commands|results|queue)\/|^cli\.ts$/.test(f))).toEqual([]);
  }, 60_000);
});
