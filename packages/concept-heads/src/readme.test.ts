import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('README example', () => {
  it('runs as written: the loss falls and the document is continued and ended', async () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = `${root}node_modules/.cache/readme-example`;
    mkdirSync(dir, { recursive: true });
    const file = `${dir}/example.ts`;
    writeFileSync(file, code!.replace("from '@sentencelab/concept-heads'", `from '${root}src/index.ts'`));
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l));
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      spy.mockRestore();
    }
    const losses = lines.filter((l) => l.startsWith('step')).map((l) => Number(l.split(' loss ')[1]));
    expect(losses.length).toBe(3);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 5);
    expect(lines.filter((l) => l.startsWith('> '))).toEqual(['> People opened their umbrellas.', '> The wet streets shone at night.']);
  }, 240_000);
});
