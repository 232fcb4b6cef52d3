import { runReadmeExample } from '@sentencelab/config/readme';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('runs as written: trains a tiny SVAE that reconstructs its sentences exactly', async () => {
    const { logs: lines } = await runReadmeExample(new URL('../README.md', import.meta.url), { heading: '## Example' });
    const losses = lines.filter((l) => l.startsWith('step')).map((l) => Number(l.split(' loss ')[1]));
    expect(losses.length).toBe(4);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 5);
    expect(lines).toContain('decoded [[5,6,7],[7,6,5],[8,9,10,11,12],[13,5,13]]');
    expect(lines.at(-1)).toMatch(/^exact match 1, token accuracy 1, PPL \d\.\d\d, BLEU 1$/);
  }, 60_000);
});
