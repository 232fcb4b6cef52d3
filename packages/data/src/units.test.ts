import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dataConfig, segmentConfigSchema } from './config.js';
import { openDataset } from './dataset.js';
import { SPLITS } from './document.js';
import { prepareDataset } from './prepare.js';
import { ROOT, SAMPLES, removeTempDirs, tempDir } from './test-support/fixtures.js';
import { BpeTokenizer, DEFAULT_SPECIALS } from './tokenizer.js';
import { trainTokenizer } from './train-tokenizer.js';
import { segment } from '@sentencelab/segment';
import { brownSource } from './sources/brown.js';
import { eachUnit, segmentUnits, type TextUnit } from './units.js';

afterAll(removeTempDirs);

const FILES = ['en-bread.txt', 'en-lighthouse.txt', 'zh-city.txt', 'zh-tea.txt'].map((f) => join(SAMPLES, f));
const chunk = (tokens: number, maxTokens = 64) => segmentConfigSchema.parse({ mode: 'chunk', tokens, maxTokens });

let tok: BpeTokenizer;
beforeAll(async () => {
  tok = BpeTokenizer.fromJson(await trainTokenizer(FILES, { vocabSize: 400, specials: DEFAULT_SPECIALS }));
});

/** The paragraphs of `text` the units cover: runs from one paragraphStart to the next. */
function byParagraph(units: readonly TextUnit[]): TextUnit[][] {
  const out: TextUnit[][] = [];
  for (const u of units) {
    if (u.paragraphStart || out.length === 0) out.push([]);
    out[out.length - 1]!.push(u);
  }
  return out;
}

describe('segmentUnits, mode chunk', () => {
  test.each([4, 8, 16])('K = %i: every paragraph is cut into chunks of exactly K tokens (the last may be shorter), losing nothing', (k) => {
    for (const file of FILES) {
      const text = readFileSync(file, 'utf8');
      const units = segmentUnits(text, chunk(k), tok);
      const paragraphs = byParagraph(units);
      expect(paragraphs.length).toBeGreaterThan(1);
      for (const p of paragraphs) {
        const start = p[0]!.start;
        const end = p[p.length - 1]!.end;
        const paragraph = text.slice(start, end);
        // The paragraph's own encoding, cut: the same ids in the same order.
        expect(p.flatMap((u) => [...u.tokens])).toEqual(tok.encodeSync(paragraph));
        expect(p.map((u) => u.text).join('')).toBe(paragraph);
        p.forEach((u, i) => {
          expect(text.slice(u.start, u.end)).toBe(u.text);
          expect(tok.decodeSync(u.tokens)).toBe(u.text); // no character cut in two
          if (i < p.length - 1 && !/[^\x00-\x7f]/.test(paragraph)) expect(u.tokens.length).toBe(k);
          expect(u.tokens.length).toBeLessThanOrEqual(k);
        });
      }
      // Only whitespace lies between paragraphs.
      let at = 0;
      for (const u of units) {
        expect(text.slice(at, u.start).trim()).toBe('');
        at = u.end;
      }
      expect(text.slice(at).trim()).toBe('');
    }
  });

  test('a chunk never ends inside a character; one that takes more than K tokens stays whole', () => {
    // A rare Han character becomes 3 byte tokens under a 400-token vocabulary.
    const text = '龘龘 ok';
    const ids = tok.encodeSync(text);
    expect(ids.length).toBeGreaterThan(4);
    const one = segmentUnits(text, chunk(1), tok);
    expect(one.map((u) => u.text).slice(0, 2)).toEqual(['龘', '龘']);
    expect(one.map((u) => u.text).join('')).toBe(text);
    expect(one[0]!.tokens.length).toBe(3);
    const four = segmentUnits(text, chunk(4), tok);
    expect(four[0]!.text).toBe('龘');
    expect(four.flatMap((u) => [...u.tokens])).toEqual(ids);
  });

  test('Chinese: chunks of K tokens rebuild the text and decode to themselves', () => {
    const text = readFileSync(join(SAMPLES, 'zh-tea.txt'), 'utf8');
    const units = segmentUnits(text, chunk(8), tok);
    for (const u of units) {
      expect(u.tokens.length).toBeLessThanOrEqual(8);
      expect(tok.decodeSync(u.tokens)).toBe(u.text);
    }
    // Most chunks are full: a boundary inside a character only shortens the chunk it ends.
    expect(units.filter((u) => u.tokens.length >= 6).length).toBeGreaterThan(units.length / 2);
  });

  test('sentence and clause modes still give trimmed segments with their own encodings', () => {
    const text = 'One, two; three. Four!';
    const s = segmentUnits(text, segmentConfigSchema.parse({ mode: 'sentence' }), tok);
    expect(s.map((u) => u.text)).toEqual(['One, two; three.', 'Four!']);
    const c = segmentUnits(text, segmentConfigSchema.parse({ mode: 'clause' }), tok);
    expect(c.map((u) => u.text)).toEqual(['One,', 'two;', 'three.', 'Four!']);
    for (const u of [...s, ...c]) expect([...u.tokens]).toEqual(tok.encodeSync(u.text));
  });
});

describe('segment config', () => {
  test('chunk needs tokens, tokens needs chunk, and maxTokens must hold a chunk', () => {
    expect(() => segmentConfigSchema.parse({ mode: 'chunk' })).toThrow(/mode chunk needs tokens: K/);
    expect(() => segmentConfigSchema.parse({ mode: 'sentence', tokens: 8 })).toThrow(/tokens is the chunk length of mode chunk; mode is sentence/);
    expect(() => segmentConfigSchema.parse({ mode: 'chunk', tokens: 16, maxTokens: 8 })).toThrow(/must be >= tokens \(16\)/);
    expect(segmentConfigSchema.parse({ mode: 'chunk', tokens: 8, maxTokens: 8 })).toMatchObject({ mode: 'chunk', tokens: 8 });
  });
});

test('prepare with chunks: units of K tokens in the Arrow files, a dataset of its own per K', async () => {
  const cache = tempDir();
  const config = (k: number) =>
    dataConfig({
      source: { type: 'text', paths: ['datasets/samples/*.txt'], unit: 'paragraph' },
      tokenizer: { vocabSize: 400 },
      segment: { mode: 'chunk', tokens: k, maxTokens: k },
      output: { cacheDir: cache },
    });
  const four = await prepareDataset(config(4), { baseDir: ROOT });
  const eight = await prepareDataset(config(8), { baseDir: ROOT });
  expect(four.dir).not.toBe(eight.dir);
  expect(four.stats.sentencesOverMaxTokens).toBe(0);
  expect(four.stats.maxSentenceTokens).toBe(4);
  expect(eight.stats.maxSentenceTokens).toBe(8);
  expect(four.stats.tokens).toBe(eight.stats.tokens); // the same paragraphs, cut differently
  const ds = await openDataset(four.dir);
  for (const s of SPLITS) {
    for (const d of await ds.split(s).loadAll()) {
      expect(d.paragraphStarts[0]).toBe(true);
      d.sentences.forEach((ids, i) => expect(ds.tokenizer.decodeSync(ids)).toBe(d.texts[i]));
    }
  }
});

describe('eachUnit on one long paragraph', () => {
  test('small windows give the units of whole-text segmentation on real Brown text', async () => {
    let documents = 0;
    for await (const doc of brownSource({ type: 'brown', categories: [], limit: 4 }).documents()) {
      // Each Brown text as one line (a single paragraph of some 10,000 characters).
      const text = doc.text.replace(/\s+/g, ' ');
      for (const mode of ['sentence', 'clause'] as const) {
        const config = segmentConfigSchema.parse({ mode, maxTokens: 12 });
        const whole = segment(text, { mode, maxTokens: 12, lengthOf: (s) => tok.countTokens(s) });
        expect(whole.length).toBeGreaterThan(100);
        for (const window of [400, 1000, 2000]) {
          const units = [...eachUnit(text, config, tok, window)];
          expect(units.map(({ tokens: _, ...s }) => s)).toEqual(whole);
          for (const u of units) expect([...u.tokens]).toEqual(tok.encodeSync(u.text));
        }
      }
      documents++;
    }
    expect(documents).toBe(4);
  });
});

