import { runReadmeExample } from '@sentencelab/config/readme';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('runs as written and the loss goes down', async () => {
    const { logs, errors } = await runReadmeExample(new URL('../README.md', import.meta.url));
    expect(errors[0]).toMatch(/^backend: (native|wasm|cpu)/);
    const losses = logs.filter((l) => l.startsWith('step')).map((l) => Number(l.split(' loss ')[1]));
    expect(losses.length).toBe(5);
    expect(losses[0]).toBeGreaterThan(2.5); // ~ln(16) at init
    expect(losses.at(-1)!).toBeLessThan(losses[0]! - 1);
    expect(logs.at(-1)).toMatch(/^\d+ parameters, e\.g\. blocks\.layers\.0\.norm1\.weight$/);
  });
});

describe('README: attention as one op', () => {
  it('runs as written: the output shape, and the causal first query returning the first value', async () => {
    const { logs, errors } = await runReadmeExample(new URL('../README.md', import.meta.url), { heading: '### Attention as one op' });
    expect(errors[0]).toMatch(/^backend: (native|wasm|cpu)/);
    expect(logs).toEqual(['out [2,4,8,16]', 'first query - first value: below 1e-6']);
  });
});
