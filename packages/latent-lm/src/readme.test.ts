import { readFileSync } from 'node:fs';
import { expect, test, vi } from 'vitest';

test('the README example runs as written and prints what the README says', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
  const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const dir = new URL('./', import.meta.url).pathname;
    const { writeFileSync, rmSync } = await import('node:fs');
    const file = `${dir}.readme-example.tmp.ts`;
    writeFileSync(file, code);
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      rmSync(file);
    }
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
  expect(lines.filter((l) => l.startsWith('next sentence'))).toEqual(['next sentence 8,9', 'next sentence 10,5,11']);
  expect(lines.at(-1)).toMatch(/^SLLM PPL \d+\.\d\d over 15 tokens; untrained token LM \d+\.\d\d over 15 tokens$/);
});
