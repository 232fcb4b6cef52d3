import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import * as api from './index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('the README example runs', () => {
  expect(blocks).toHaveLength(1);
  const block = blocks[0]!;
  const modules: Record<string, object> = { 'node:assert/strict': { default: assert }, 'node:fs': fs, 'node:os': os, 'node:path': path, '@sentencelab/fs-atomic': api };
  const bound: Record<string, unknown> = {};
  for (const m of block.matchAll(/^import (?:(\w+)|\{([^}]*)\}) from '([^']+)';$/gm)) {
    const mod = modules[m[3]!] as Record<string, unknown> | undefined;
    expect(mod, `README imports ${m[3]}`).toBeDefined();
    if (m[1]) bound[m[1]] = mod!['default'];
    for (const name of (m[2] ?? '').split(',').map((n) => n.trim()).filter(Boolean)) bound[name] = mod![name];
  }
  const body = block.replace(/^import .*$/gm, '');
  new Function(...Object.keys(bound), body)(...Object.values(bound));
});
