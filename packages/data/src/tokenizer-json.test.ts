import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from 'tokenizers';
import { beforeAll, describe, expect, test } from 'vitest';
import { SAMPLES } from './test-support/fixtures.js';
import { ByteLevelTokenizer, DEFAULT_SPECIALS } from './tokenizer-json.js';
import { trainTokenizer } from './train-tokenizer.js';

const FILES = ['en-bread.txt', 'en-lighthouse.txt', 'zh-city.txt', 'zh-tea.txt'].map((f) => join(SAMPLES, f));

let json: string;
let reader: ByteLevelTokenizer;
let native: Tokenizer;
beforeAll(async () => {
  json = await trainTokenizer(FILES, { vocabSize: 400, specials: DEFAULT_SPECIALS });
  reader = ByteLevelTokenizer.parse(json);
  native = Tokenizer.fromString(json);
});

describe('ByteLevelTokenizer (the browser-safe reader)', () => {
  test('encodes and decodes real text exactly as the HF tokenizers reference, line by line', async () => {
    const lines = [...FILES, join(SAMPLES, '..', 'tiny.jsonl')]
      .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
      .flatMap((l) => [l, ...l.split(/(?<=[.!?。！？])/)])
      .filter((l) => l.length > 0 && !l.includes('<'));
    expect(lines.length).toBeGreaterThan(50);
    for (const line of lines) {
      const ids = reader.encodeSync(line);
      expect(ids, line).toEqual((await native.encode(line)).getIds());
      expect(reader.decodeSync(ids), line).toBe(await native.decode(ids, false));
    }
  });

  test('vocabulary size and special ids as HF counts them', () => {
    expect(reader.vocabSize).toBe(native.getVocabSize(true));
    expect([reader.pad, reader.bos, reader.eos, reader.unk]).toEqual(['<pad>', '<bos>', '<eos>', '<unk>'].map((t) => native.tokenToId(t)));
  });

  test('errors name the origin', () => {
    expect(() => ByteLevelTokenizer.parse('{', DEFAULT_SPECIALS, 'run lm: tokenizer')).toThrow(/^run lm: tokenizer: not valid JSON/);
    expect(() => ByteLevelTokenizer.parse(json, { ...DEFAULT_SPECIALS, eos: '</s>' }, 'x.json')).toThrow('x.json: special token eos "</s>" is not in the vocabulary');
  });
});
