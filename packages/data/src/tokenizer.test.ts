import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { byteLevelAlphabet } from './byte-level.js';
import { DataError } from './errors.js';
import { SAMPLES, removeTempDirs, tempDir } from './test-support/fixtures.js';
import { BpeTokenizer, DEFAULT_SPECIALS } from './tokenizer.js';
import { trainTokenizer } from './train-tokenizer.js';

afterAll(removeTempDirs);

const FILES = ['en-bread.txt', 'en-lighthouse.txt', 'zh-city.txt', 'zh-tea.txt'].map((f) => join(SAMPLES, f));
const SAMPLES_TEXT = [
  'The lighthouse was built in 1871.',
  'café, naïve, Øresund, déjà vu',
  '茶起源于中国，已有几千年的历史。',
  'emoji 😀👍🏽 and a family 👨‍👩‍👧 too',
  'tabs\tand\nnewlines  double  spaces ',
  'special strings <pad><bos> <eos> x<unk> stay text',
  '',
];

let json: string;
let tok: BpeTokenizer;
beforeAll(async () => {
  json = await trainTokenizer(FILES, { vocabSize: 400, specials: DEFAULT_SPECIALS });
  tok = BpeTokenizer.fromJson(json);
});

describe('trained byte-level BPE', () => {
  test('exact vocabulary: specials 0..3, the 256 byte symbols, then merges; every id used once', () => {
    expect(tok.vocabSize).toBe(400);
    expect([tok.pad, tok.bos, tok.eos, tok.unk]).toEqual([0, 1, 2, 3]);
    const parsed = JSON.parse(json) as { model: { vocab: Record<string, number>; merges: unknown[] } };
    const ids = Object.values(parsed.model.vocab).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 400 }, (_, i) => i));
    byteLevelAlphabet().forEach((ch, b) => expect(parsed.model.vocab[ch]).toBe(4 + b));
    expect(parsed.model.merges.length).toBeGreaterThanOrEqual(400 - 260);
  });

  test('decode(encode(s)) === s for ASCII, accents, Chinese, emoji, whitespace and special strings', async () => {
    for (const s of SAMPLES_TEXT) {
      const ids = await tok.encode(s);
      expect(ids.every((i) => i >= 0 && i < tok.vocabSize)).toBe(true);
      expect(await tok.decode(ids)).toBe(s);
    }
  });

  test('special-token strings in text are never encoded as special ids', async () => {
    const ids = await tok.encode('a <eos> b <pad>');
    expect(ids).not.toContain(tok.eos);
    expect(ids).not.toContain(tok.pad);
    expect(await tok.decode([tok.bos, ...(await tok.encode('hi')), tok.eos])).toBe('<bos>hi<eos>');
  });

  test('ids and decoding match the HF tokenizers reference exactly', async () => {
    const native = async (s: string) => (await tok.native.encode(s)).getIds();
    for (const s of SAMPLES_TEXT.filter((x) => !x.includes('<'))) expect(await tok.encode(s)).toEqual(await native(s));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 40 }),
          fc.string({ unit: fc.constantFrom('a', 'b', 'the', ' ', '  ', '的', '。', "'s", "'", 'l', '\n', '\t', '1', '23', '😀', 'é', '.', ',"'), maxLength: 30 }),
        ),
        async (s) => {
          expect(await tok.encode(s)).toEqual(await native(s));
        },
      ),
      { numRuns: 300, seed: 11 },
    );
    // Any id sequence, including ones that cut characters apart (U+FFFD) or hold specials.
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 399 }), { maxLength: 20 }), fc.boolean(), async (ids, skipSpecial) => {
        expect(await tok.decode(ids, { skipSpecial })).toBe(await tok.native.decode(ids, skipSpecial));
      }),
      { numRuns: 300, seed: 12 },
    );
  });

  test('encodeBatch equals encode one by one', async () => {
    const batch = await tok.encodeBatch(SAMPLES_TEXT);
    for (let i = 0; i < SAMPLES_TEXT.length; i++) expect(batch[i]).toEqual(await tok.encode(SAMPLES_TEXT[i]!));
  });

  test('countTokens (sync, for segment) equals the encoded length on arbitrary text', async () => {
    for (const s of SAMPLES_TEXT) expect(tok.countTokens(s)).toBe((await tok.encode(s)).length);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 40 }),
          fc.string({ unit: fc.constantFrom('a', 'b', ' ', '的', '。', "'", 's', 'l', '\n', '<', 'e', 'o', '>', '1', '😀'), maxLength: 60 }),
        ),
        async (s) => {
          expect(tok.countTokens(s)).toBe((await tok.encode(s)).length);
          expect(await tok.decode(await tok.encode(s))).toBe(s);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  test('training is deterministic; save + load gives the same tokenizer', async () => {
    expect(await trainTokenizer(FILES, { vocabSize: 400, specials: DEFAULT_SPECIALS })).toBe(json);
    const d = tempDir();
    writeFileSync(join(d, 'tokenizer.json'), json);
    const loaded = BpeTokenizer.load(join(d, 'tokenizer.json'));
    expect(loaded.hash).toBe(tok.hash);
    expect(await loaded.encode(SAMPLES_TEXT[2]!)).toEqual(await tok.encode(SAMPLES_TEXT[2]!));
  });

  test('custom special-token names', async () => {
    const specials = { pad: '[PAD]', bos: '[BOS]', eos: '[EOS]', unk: '[UNK]' };
    const t = BpeTokenizer.fromJson(await trainTokenizer(FILES, { vocabSize: 300, specials }), specials);
    expect(t.vocabSize).toBe(300);
    expect(t.idToToken(t.eos)).toBe('[EOS]');
  });
});

describe('tokenizer errors', () => {
  const fails = (f: () => unknown, message: RegExp): void => {
    expect(f).toThrow(DataError);
    expect(f).toThrow(message);
  };

  test('vocabulary size out of range or too large for the corpus', async () => {
    const rejects = async (p: Promise<unknown>, message: RegExp) => {
      await expect(p).rejects.toThrow(DataError);
      await expect(p).rejects.toThrow(message);
    };
    await rejects(trainTokenizer(FILES, { vocabSize: 100, specials: DEFAULT_SPECIALS }), /tokenizer\.vocabSize: 100 is out of range/);
    await rejects(trainTokenizer(FILES, { vocabSize: 20_000, specials: DEFAULT_SPECIALS }), /the corpus is too small for 20000/);
    await rejects(trainTokenizer(FILES, { vocabSize: 300, specials: { ...DEFAULT_SPECIALS, eos: '<pad>' } }), /four distinct special tokens/);
    await rejects(trainTokenizer([join(SAMPLES, 'missing.txt')], { vocabSize: 300, specials: DEFAULT_SPECIALS }), /^tokenizer training failed: No such file or directory \(os error 2\) \(files: .*missing\.txt\)$/);
  });

  test('a tokenizer.json that is missing, does not parse, or is not byte-level BPE', () => {
    const d = tempDir({
      'broken.json': '{"model": {"type": "BPE", ',
      'wordpiece.json': JSON.stringify({ model: { type: 'WordPiece', vocab: {} } }),
      'nomodel.json': '[1, 2]',
    });
    fails(() => BpeTokenizer.load(join(d, 'none.json')), /none\.json: tokenizer file not found/);
    fails(() => BpeTokenizer.load(join(d, 'broken.json')), /broken\.json: not valid JSON/);
    fails(() => BpeTokenizer.load(join(d, 'wordpiece.json')), /wordpiece\.json: only byte-level BPE tokenizers are supported \(model\.type is "WordPiece"\)/);
    fails(() => BpeTokenizer.load(join(d, 'nomodel.json')), /nomodel\.json: not a tokenizer\.json/);
  });

  test('a special token the vocabulary lacks names its config key', () => {
    fails(() => BpeTokenizer.fromJson(json, { ...DEFAULT_SPECIALS, bos: '<s>' }, 'my.json'), /my\.json: special token bos "<s>" is not in the vocabulary \(set tokenizer\.specials\.bos\)/);
  });
});
