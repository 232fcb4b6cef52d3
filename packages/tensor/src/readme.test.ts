import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('README example', () => {
  it('runs as written and the loss goes down', async () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = `${root}node_modules/.cache/readme-example`;
    mkdirSync(dir, { recursive: true });
    const file = `${dir}/example.ts`;
    writeFileSync(file, code!.replace("from '@sentencelab/tensor'", `from '${root}src/index.ts'`));
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l));
    const err = vi.spyOn(console, 'error').mockImplementation((l: string) => void lines.push(l));
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      spy.mockRestore();
      err.mockRestore();
    }
    expect(lines[0]).toMatch(/^backend: (native|wasm|cpu)/);
    const losses = lines.filter((l) => l.startsWith('step')).map((l) => Number(l.split(' loss ')[1]));
    expect(losses.length).toBe(5);
    expect(losses[0]).toBeGreaterThan(2.5); // ~ln(16) at init
    expect(losses.at(-1)!).toBeLessThan(losses[0]! - 1);
    expect(lines.at(-1)).toMatch(/^\d+ parameters, e\.g\. blocks\.layers\.0\.norm1\.weight$/);
  });
});
