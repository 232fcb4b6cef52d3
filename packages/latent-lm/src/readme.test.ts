import { runReadmeExample } from '@sentencelab/config/readme';
import { expect, test } from 'vitest';

test('the README example runs as written and prints what the README says', async () => {
  const { logs } = await runReadmeExample(new URL('../README.md', import.meta.url));
  expect(logs.filter((l) => l.startsWith('next sentence'))).toEqual(['next sentence [8,9]', 'next sentence [10,5,11]']);
  expect(logs.at(-1)).toMatch(/^SLLM PPL \d+\.\d\d over 15 tokens; untrained token LM \d+\.\d\d over 15 tokens$/);
}, 240_000);
