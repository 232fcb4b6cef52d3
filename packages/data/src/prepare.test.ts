import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dataConfig, type DataConfigInput } from './config.js';
import { openDataset } from './dataset.js';
import { SPLITS, type DatasetDocument } from './document.js';
import { breakLongLines, prepareDataset, type PrepareProgress, type PrepareResult } from './prepare.js';
import { trainTokenizer } from './train-tokenizer.js';
import { formatStats, splitShareWarning } from './stats.js';
import { paragraphs } from './sources/text.js';
import { splitOf } from './split.js';
import { ROOT, SAMPLES, removeTempDirs, tempDir } from './test-support/fixtures.js';

afterAll(removeTempDirs);

const cache = tempDir();
const samples = (over: DataConfigInput = {}) =>
  dataConfig({
    source: { type: 'text', paths: ['datasets/samples/*.txt'], unit: 'paragraph' },
    tokenizer: { vocabSize: 400 },
    segment: { maxTokens: 32 },
    split: { validation: 0.2, test: 0.2 },
    output: { cacheDir: cache, batchDocuments: 3 },
    ...over,
  });
const noSpace = (s: string) => s.replace(/\s+/g, '');

let first: PrepareResult;
let progress: PrepareProgress[];
let all: DatasetDocument[];
beforeAll(async () => {
  progress = [];
  first = await prepareDataset(samples(), { baseDir: ROOT, onProgress: (p) => progress.push(p) });
  const ds = await openDataset(first.dir);
  all = [];
  for (const s of SPLITS) all.push(...(await ds.split(s).loadAll()));
});

describe('prepareDataset', () => {
  test('writes the dataset folder: three Arrow splits, tokenizer, stats, manifest', () => {
    expect(first.cached).toBe(false);
    expect(readdirSync(first.dir).sort()).toEqual(['manifest.json', 'stats.json', 'test.arrow', 'tokenizer.json', 'train.arrow', 'validation.arrow']);
    expect(readdirSync(cache).filter((f) => f.startsWith('.tmp'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(first.dir, 'stats.json'), 'utf8'))).toEqual(first.stats);
    expect(progress.map((p) => p.stage)).toContain('tokenizer');
    expect(progress.at(-1)).toEqual({ stage: 'prepare', done: first.stats.documents, total: first.stats.documents, unit: 'documents' });
  });

  test('nothing is lost: every paragraph is a document whose sentences hold all its text', async () => {
    const expected = new Map<string, string>();
    for (const f of readdirSync(SAMPLES).sort()) {
      paragraphs(readFileSync(join(SAMPLES, f), 'utf8')).forEach((p, i) => expected.set(`datasets/samples/${f}#${i + 1}`, p));
    }
    expect(all.map((d) => d.id).sort()).toEqual([...expected.keys()].sort());
    const tok = (await openDataset(first.dir)).tokenizer;
    for (const d of all) {
      expect(noSpace(d.texts.join(''))).toBe(noSpace(expected.get(d.id)!));
      expect(d.paragraphStarts[0]).toBe(true);
      for (let i = 0; i < d.sentences.length; i++) {
        expect(d.sentences[i]!.length).toBeLessThanOrEqual(32);
        expect(await tok.decode(d.sentences[i]!)).toBe(d.texts[i]);
      }
    }
  });

  test('stats agree with the files; documents are in the split their id hashes to', async () => {
    const ds = await openDataset(first.dir);
    const s = first.stats;
    expect(s.documents).toBe(all.length);
    expect(s.sentences).toBe(all.reduce((a, d) => a + d.sentences.length, 0));
    expect(s.tokens).toBe(all.reduce((a, d) => a + d.sentences.reduce((x, t) => x + t.length, 0), 0));
    expect(s.sentenceLengthHistogram.reduce((a, b) => a + b.count, 0)).toBe(s.sentences);
    expect(s.tokenizer.vocabSize).toBe(400);
    for (const name of SPLITS) {
      const docs = await ds.split(name).loadAll();
      expect(docs.length).toBe(s.splits[name].documents);
      expect(ds.split(name).documents).toBe(docs.length);
      for (const d of docs) expect(splitOf(d.id, { validation: 0.2, test: 0.2, salt: '' })).toBe(name);
    }
    let streamed = 0;
    for await (const d of ds.split('train')) streamed += d.sentences.length;
    expect(streamed).toBe(s.splits.train.sentences);
  });

  test('temp folders of dead runs are cleared; a live run\'s are left alone', async () => {
    const dead = join(cache, '.tmp-999999999-abcdef');
    const live = join(cache, `.tmp-${process.ppid}-abcdef`);
    mkdirSync(dead);
    mkdirSync(live);
    await prepareDataset(samples(), { baseDir: ROOT });
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    rmSync(live, { recursive: true });
  });

  test('same inputs -> cache hit; other settings -> another folder', async () => {
    const again = await prepareDataset(samples(), { baseDir: ROOT });
    expect(again).toMatchObject({ cached: true, dir: first.dir, stats: first.stats });
    const forced = await prepareDataset(samples(), { baseDir: ROOT, force: true });
    expect(forced.cached).toBe(false);
    expect(forced.dir).toBe(first.dir);
    const other = await prepareDataset(samples({ segment: { mode: 'clause', maxTokens: 32 } }), { baseDir: ROOT });
    expect(other.cached).toBe(false);
    expect(other.dir).not.toBe(first.dir);
    expect(other.stats.sentences).toBeGreaterThan(first.stats.sentences);
  });

  test('a small maxTokens splits long sentences; none exceeds it; the share of pieces is stored and warned about', async () => {
    const r = await prepareDataset(samples({ segment: { maxTokens: 6 } }), { baseDir: ROOT });
    expect(r.stats.sentencesSplitForLength).toBeGreaterThan(0);
    expect(r.stats.sentencesOverMaxTokens).toBe(0);
    expect(r.stats.maxSentenceTokens).toBeLessThanOrEqual(6);
    const share = r.stats.sentencesSplitForLength / r.stats.sentences;
    expect(share).toBeGreaterThan(0.1);
    expect(r.stats.splitForLengthShare).toBe(share);
    expect(JSON.parse(readFileSync(join(r.dir, 'stats.json'), 'utf8')).splitForLengthShare).toBe(share);
    const printed = formatStats(r.stats, { maxTokens: 6 });
    expect(printed).toContain(`sentences split for length: ${r.stats.sentencesSplitForLength} pieces (${(share * 100).toFixed(1)}% of all sentences)`);
    expect(printed).toContain(`warning: ${(share * 100).toFixed(1)}% of the sentences (${r.stats.sentencesSplitForLength} of ${r.stats.sentences}) are pieces of longer ones cut at segment.maxTokens (6), over 10.0%`);
    const roomy = await prepareDataset(samples({ segment: { maxTokens: 256 } }), { baseDir: ROOT });
    expect(roomy.stats.splitForLengthShare).toBeLessThanOrEqual(0.1);
    expect(formatStats(roomy.stats, { maxTokens: 256 })).not.toContain('are pieces of longer ones');
  });

  test('the tokenizer is trained on the train split only: a string only a test document holds is never a merge', async () => {
    const split = { validation: 0, test: 0.3, salt: '' };
    const ids = Array.from({ length: 40 }, (_, i) => `doc-${i}`);
    const testId = ids.find((id) => splitOf(id, split) === 'test')!;
    const english = readdirSync(SAMPLES)
      .filter((f) => f.startsWith('en-'))
      .flatMap((f) => paragraphs(readFileSync(join(SAMPLES, f), 'utf8')));
    const trainIds = ids.filter((id) => splitOf(id, split) === 'train');
    const lines = [
      { id: testId, text: Array.from({ length: 300 }, () => 'zqxvw').join(' ') },
      ...english.map((text, i) => ({ id: trainIds[i]!, text })),
    ];
    const d = tempDir({ 'leak.jsonl': lines.map((l) => JSON.stringify(l)).join('\n') });
    const config = dataConfig({ source: { type: 'jsonl', paths: ['leak.jsonl'], idField: 'id' }, tokenizer: { vocabSize: 300 }, split, output: { cacheDir: cache } });
    const r = await prepareDataset(config, { baseDir: d });
    expect(r.stats.splits.test.documents).toBe(1);
    expect(r.stats.tokenizer.origin).toMatch(new RegExp(`^trained on the ${english.length} train-split documents`));
    const tok = (await openDataset(r.dir)).tokenizer;
    // Five byte symbols: no merge joins any two of its letters.
    expect(tok.encodeSync('zqxvw')).toHaveLength(5);
    const vocab = Object.keys((JSON.parse(tok.json) as { model: { vocab: Record<string, number> } }).model.vocab);
    expect(vocab.filter((t) => /zq|qx|xv|vw/.test(t))).toEqual([]);
  });

  test('an existing tokenizer.json can be loaded instead of training', async () => {
    const r = await prepareDataset(samples({ tokenizer: { path: join(first.dir, 'tokenizer.json') } }), { baseDir: ROOT });
    expect(r.manifest.tokenizerHash).toBe(first.manifest.tokenizerHash);
    expect(r.stats.tokens).toBe(first.stats.tokens);
  });

  test('jsonl: empty texts are filtered and reported, not silently dropped', async () => {
    const d = tempDir({ 'a.jsonl': '{"text": "One sentence here. And another one."}\n{"text": "   "}\n{"text": "Third doc!"}\n' });
    const r = await prepareDataset(dataConfig({ source: { type: 'jsonl', paths: ['a.jsonl'] }, tokenizer: { vocabSize: 270 }, output: { cacheDir: cache } }), { baseDir: d });
    expect(r.stats.documents).toBe(2);
    expect(r.stats.filtered).toEqual([{ reason: 'empty documents (no text)', count: 1, examples: [`${join(d, 'a.jsonl')}:2`] }]);
  });

  test('empty corpus and duplicate ids are errors naming the input', async () => {
    const d = tempDir({ 'empty.txt': '\n  \n', 'dup.jsonl': '{"id": 1, "text": "a"}\n{"id": "1", "text": "b"}\n' });
    await expect(prepareDataset(dataConfig({ source: { type: 'text', paths: ['empty.txt'] }, output: { cacheDir: cache } }), { baseDir: d })).rejects.toThrow(
      `empty corpus: text (1 file, one document per file) has only empty documents (${join(d, 'empty.txt')})`,
    );
    await expect(
      prepareDataset(dataConfig({ source: { type: 'jsonl', paths: ['dup.jsonl'], idField: 'id' }, output: { cacheDir: cache } }), { baseDir: d }),
    ).rejects.toThrow(`${join(d, 'dup.jsonl')}:2: duplicate document id "1" (also at ${join(d, 'dup.jsonl')}:1)`);
    expect(readdirSync(cache).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  });

  test('a binary file fails with the clean error only (the corpus write stream is closed, no unhandled error event)', async () => {
    const d = tempDir({ 'bin.txt': 'hello\nwo\0rld\n' });
    const uncaught: unknown[] = [];
    const record = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', record);
    try {
      await expect(prepareDataset(dataConfig({ source: { type: 'text', paths: ['bin.txt'] }, output: { cacheDir: cache } }), { baseDir: d })).rejects.toThrow(
        `${join(d, 'bin.txt')}: looks binary (NUL byte at offset 8, line 2); expected UTF-8 text`,
      );
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      process.off('uncaughtException', record);
    }
    expect(uncaught).toEqual([]);
    expect(readdirSync(cache).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  });

  test('a tokenizer.path that does not parse fails naming it', async () => {
    const d = tempDir({ 'tokenizer.json': '{ nope' });
    await expect(prepareDataset(samples({ tokenizer: { path: join(d, 'tokenizer.json') } }), { baseDir: ROOT })).rejects.toThrow(
      `${join(d, 'tokenizer.json')}: not valid JSON`,
    );
  });

  test('a slice of Brown: detokenized text, paragraphs, sentence splits', async () => {
    const r = await prepareDataset(
      dataConfig({ source: { type: 'brown', limit: 12 }, tokenizer: { vocabSize: 1000 }, output: { cacheDir: cache } }),
      { baseDir: ROOT },
    );
    expect(r.stats.documents).toBe(12);
    expect(r.stats.sentences).toBeGreaterThan(12 * 40);
    const ds = await openDataset(r.dir);
    const docs = [...(await ds.split('train').loadAll()), ...(await ds.split('validation').loadAll()), ...(await ds.split('test').loadAll())];
    const ca01 = docs.find((d) => d.id === 'ca01')!;
    expect(ca01.texts[0]).toBe(
      'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.',
    );
    expect(ca01.paragraphStarts.filter(Boolean).length).toBeGreaterThan(10);
  });
});

test('splitShareWarning: silent at 10% of pieces, a warning naming the counts above it', () => {
  expect(splitShareWarning({ sentences: 1000, sentencesSplitForLength: 100 })).toBeNull();
  expect(splitShareWarning({ sentences: 0, sentencesSplitForLength: 0 })).toBeNull();
  expect(splitShareWarning({ sentences: 17_547, sentencesSplitForLength: 12_880 }, 40)).toBe(
    'warning: 73.4% of the sentences (12,880 of 17,547) are pieces of longer ones cut at segment.maxTokens (40), over 10.0%: sentence models would mostly learn arbitrary chunks. Raise segment.maxTokens, tokenizer.vocabSize, or use segment.mode: clause',
  );
});

test('the README example runs', async () => {
  const readme = readFileSync(join(ROOT, 'packages', 'data', 'README.md'), 'utf8');
  const code = /## Example\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const dir = tempDir();
  const file = join(dir, 'example.ts');
  const logs: unknown[][] = [];
  const src = code!
    .replace("from '@sentencelab/data'", `from ${JSON.stringify(join(ROOT, 'packages', 'data', 'src', 'index.ts'))}`)
    .replace("const config = dataConfig({", `const config = dataConfig({\n  output: { cacheDir: ${JSON.stringify(cache)} },`)
    .replaceAll('console.log(', 'log(');
  const lines = src.split('\n');
  const imports = lines.filter((l) => l.startsWith('import '));
  const body = lines.filter((l) => !l.startsWith('import '));
  writeFileSync(file, `${imports.join('\n')}\nexport async function run(log: (...a: unknown[]) => void) {\n${body.join('\n')}\n}\n`);
  expect(existsSync(file)).toBe(true);
  const mod = (await import(file)) as { run: (log: (...a: unknown[]) => void) => Promise<void> };
  await mod.run((...a) => logs.push(a));
  expect(logs[0]![0]).toMatch(/^\d+ documents, \d+ sentences, \d+ tokens$/);
  expect(logs[1]).toEqual(['token windows', [8, 64]]);
  expect(logs[2]![0]).toBe('sentence batch');
  expect((logs[2]![1] as number[]).slice(1)).toEqual([8, 32]);
  expect(logs[3]![0]).toBe(logs[3]![2]);
});

describe('breakLongLines (the tokenizer training file of a corpus with very long lines)', () => {
  test('breaks only long lines, only at a single space between words, losing nothing', () => {
    expect(breakLongLines('short line.\nanother.', 64)).toBe('short line.\nanother.');
    const long = Array.from({ length: 400 }, (_, i) => `w${i}${i % 7 === 0 ? '  ' : ' '}`).join('') + 'end.';
    const out = breakLongLines(long, 100);
    const lines = out.split('\n');
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.join('')).toBe(long);
    for (const [i, line] of lines.entries()) {
      expect(line.length).toBeLessThan(100 + 12);
      if (i > 0) expect(line).toMatch(/^ \S/);
    }
  });

  test('trains the same tokenizer as the unbroken line', async () => {
    const words = ['the', 'cat', 'sat', 'on', 'a', 'mat,', 'then', 'ran', 'away.', "it's", '12', 'dogs'];
    const text = Array.from({ length: 3000 }, (_, i) => words[(i * 7 + (i >> 3)) % words.length]).join(' ');
    const d = tempDir({ 'whole.txt': `${text}\n`, 'broken.txt': `${breakLongLines(text, 200)}\n` });
    expect(readFileSync(join(d, 'broken.txt'), 'utf8').split('\n').length).toBeGreaterThan(50);
    const options = { vocabSize: 285, specials: { pad: '<pad>', bos: '<bos>', eos: '<eos>', unk: '<unk>' } };
    expect(await trainTokenizer([join(d, 'broken.txt')], options)).toBe(await trainTokenizer([join(d, 'whole.txt')], options));
  }, 60_000);
});

describe('a corpus whose document is one huge line', () => {
  test('prepares 10 MB on one line within a 56 MB heap (the whole-document segmentation needed over 72 MB)', () => {
    const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'then', 'ran', 'away', 'Mr.', 'Smith', 'said', 'it', 'was', '12', 'dogs', '"hello"', '(maybe)', 'U.S.'];
    const parts: string[] = [];
    let length = 0;
    for (let i = 0; length < 10_000_000; i++) {
      const sentence = Array.from({ length: 5 + (i % 17) }, (_, k) => words[(i * 7 + k * 3 + (i >> 4)) % words.length]).join(' ');
      parts.push(`${sentence}${i % 5 === 0 ? '?' : '.'} `);
      length += parts[parts.length - 1]!.length;
    }
    const d = tempDir({ 'line.txt': `${parts.join('').trimEnd()}\n` });
    const child = spawnSync(
      process.execPath,
      ['--max-old-space-size=56', '--import', 'tsx', join(import.meta.dirname, 'test-support', 'prepare-child.ts'), join(d, 'line.txt'), join(d, 'cache')],
      { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' },
    );
    expect(child.stderr.slice(-2000)).not.toMatch(/heap out of memory/);
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout).sentences).toBeGreaterThan(80_000);
  }, 60_000);
});

