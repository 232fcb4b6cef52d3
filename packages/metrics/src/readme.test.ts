import { runReadmeExample } from '@sentencelab/config/readme';
import { expect, test } from 'vitest';

test('the README example runs as written and prints what the README says', async () => {
  const { logs: lines } = await runReadmeExample(new URL('../README.md', import.meta.url));
  expect(lines[0]).toMatch(/^token-lm: PPL \d+\.\d{3} over 12 tokens, context 4\.7 tokens \(3-7\) \(scored-id fingerprint [0-9a-f]{16}\)$/);
  expect(lines[1]).toMatch(/^sllm: PPL \d+\.\d{3} over 12 tokens, context 4\.7 tokens \(3-7\) \(scored-id fingerprint [0-9a-f]{16}\)$/);
  expect(lines[2]).toMatch(/^fingerprint [0-9a-f]{16}, 12 tokens$/);
  expect(lines.splice(3, 1)[0]).toMatch(/^sllm PPL [\d.]+, 95% interval \[[\d.]+, [\d.]+\]$/);
  expect(lines[3]).toBe('token-lm speed keys tokens_per_s,tokens_per_s_excl_first,sentences_per_s,sentences_per_s_excl_first,generated_tokens');
  expect(lines[4]).toBe('token-lm KV bytes/token 256 analytical, 256.0 measured');
  expect(Object.keys(JSON.parse(lines[5]!.replace('sllm params ', '')) as object)).toEqual(['svae', 'decoder', 'stop']);
});
