import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('README example', () => {
  it('runs as written: trains a tiny SVAE that reconstructs its sentences exactly', async () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const code = /## Example\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = `${root}node_modules/.cache/readme-example`;
    mkdirSync(dir, { recursive: true });
    const file = `${dir}/example.ts`;
    writeFileSync(file, code!.replace("from '@sentencelab/sentence-vae'", `from '${root}src/index.ts'`));
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')));
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    const losses = lines.filter((l) => l.startsWith('step')).map((l) => Number(l.split(' loss ')[1]));
    expect(losses.length).toBe(4);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 5);
    expect(lines).toContain('decoded [[5,6,7],[7,6,5],[8,9,10,11,12],[13,5,13]]');
    expect(lines.at(-1)).toMatch(/^exact match 1, token accuracy 1, PPL \d\.\d\d, BLEU 1$/);
  }, 60_000);
});
