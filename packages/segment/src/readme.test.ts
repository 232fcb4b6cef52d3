import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import * as api from './index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('the README has runnable examples', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(4);
});

test.each(blocks.map((b, i) => [i + 1, b] as const))('README example %i runs', (_, block) => {
  const imports = [...block.matchAll(/^import .*$/gm)].map((m) => m[0]);
  for (const line of imports) expect(line).toMatch(/from '(node:assert\/strict|@sentencelab\/segment)';$/);
  const body = block.replace(/^import .*$/gm, '');
  const names = Object.keys(api);
  // The examples are plain JavaScript: run them against this package's sources.
  new Function('assert', ...names, body)(assert, ...names.map((n) => (api as Record<string, unknown>)[n]));
});
