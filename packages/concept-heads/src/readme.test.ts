import { runReadmeExample } from '@sentencelab/config/readme';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('runs as written: the loss falls and the document is continued and ended', async () => {
    const { logs: lines } = await runReadmeExample(new URL('../README.md', import.meta.url));
    const losses = lines.filter((l) => l.startsWith('step')).map((l) => Number(l.split(' loss ')[1]));
    expect(losses.length).toBe(3);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 5);
    expect(lines.filter((l) => l.startsWith('> '))).toEqual(['> People opened their umbrellas.', '> The wet streets shone at night.']);
  }, 240_000);
});
