import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { DataError } from '../errors.js';
import { ROOT, removeTempDirs, tempDir } from '../test-support/fixtures.js';
import { brownCatalog, brownSource, brownText, detokenize } from './brown.js';
import { jsonlSource } from './jsonl.js';
import { invalidUtf8At, readUtf8Lines } from './read.js';
import { paragraphs, textSource } from './text.js';
import type { CorpusSource, SourceDocument } from './types.js';

afterAll(removeTempDirs);

async function all(source: CorpusSource): Promise<SourceDocument[]> {
  const out: SourceDocument[] = [];
  for await (const d of source.documents()) out.push(d);
  return out;
}

async function failure(p: Promise<unknown>): Promise<DataError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DataError);
  return e as DataError;
}

describe('brown', () => {
  test('detokenize: quotes hug their text, no space before punctuation, contractions rejoined', () => {
    expect(detokenize(['He', 'said', '``', 'no', "''", ',', 'then', 'left', '.'])).toBe('He said "no", then left.');
    expect(detokenize(['I', 'do', "n't", 'know', ';', 'it', "'s", 'late', '!'])).toBe("I don't know; it's late!");
    expect(detokenize(['a', '(', 'b', ')', 'c', '?'])).toBe('a (b) c?');
    expect(detokenize(['say', "'", 'hi', "'", 'now'])).toBe("say 'hi' now");
    expect(detokenize(['Allen', 'Jr.', '.'])).toBe('Allen Jr.');
    expect(detokenize(['wait', '--', 'what'])).toBe('wait -- what');
  });

  test('brownText strips tags, keeps paragraphs, gives headlines their own paragraph', () => {
    const raw = [
      '',
      "\tThe/at jury/nn said/vbd ``/`` no/at ''/'' ./.",
      'It/pps was/bedz 1-1/2/cd miles/nns ./.',
      '',
      '',
      '\tMerger/nn-hl proposed/vbn-hl',
      'However/rb ,/, it/pps ended/vbd ./.',
      '',
    ].join('\n');
    expect(brownText(raw)).toBe('The jury said "no". It was 1-1/2 miles.\n\nMerger proposed\n\nHowever, it ended.');
  });

  test('one document per text, in catalog order, filtered by category and limit', async () => {
    const catalog = brownCatalog();
    expect(catalog).toHaveLength(500);
    const docs = await all(brownSource({ type: 'brown', categories: ['humor'], limit: 3 }));
    expect(docs.map((d) => d.id)).toEqual(catalog.filter((c) => c.category === 'humor').slice(0, 3).map((c) => c.id));
    for (const d of docs) {
      expect(d.text).not.toMatch(/\/[a-z]/); // no POS tags left
      expect(d.text).not.toMatch(/ [,.;:?!]( |$)/m); // no space before punctuation
      expect(d.text).not.toContain('``');
      expect(d.text).toContain('\n\n');
    }
  });

  test('an unknown category is an error naming it', () => {
    expect(() => brownSource({ type: 'brown', categories: ['news', 'poetry'], limit: null })).toThrow(/unknown Brown category poetry/);
  });
});

describe('text', () => {
  test('one document per file, ids relative to the base folder', async () => {
    const docs = await all(await textSource({ type: 'text', paths: ['datasets/samples/*.txt'], unit: 'file' }, ROOT));
    expect(docs.map((d) => d.id)).toEqual([
      'datasets/samples/en-bread.txt',
      'datasets/samples/en-lighthouse.txt',
      'datasets/samples/zh-city.txt',
      'datasets/samples/zh-tea.txt',
    ]);
    expect(docs[3]!.text).toContain('茶起源于中国');
  });

  test('a corpus outside the base folder keeps its ids wherever it lies (no absolute paths)', async () => {
    const files = { 'corpus/a.txt': 'One.', 'corpus/sub/b.txt': 'Two.', 'single.jsonl': '{"text": "Three."}\n' };
    const ids = async (where: string, base: string) => [
      ...(await all(await textSource({ type: 'text', paths: [join(where, 'corpus/**/*.txt')], unit: 'file' }, base))).map((d) => d.id),
      ...(await all(await textSource({ type: 'text', paths: [join(where, 'corpus/a.txt')], unit: 'paragraph' }, base))).map((d) => d.id),
      ...(await all(await jsonlSource({ type: 'jsonl', paths: [join(where, 'single.jsonl')], textField: 'text', idField: null }, base))).map((d) => d.id),
    ];
    const place = (dir: string) => {
      for (const [name, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), text);
      }
      return dir;
    };
    const first = place(tempDir());
    const expected = ['corpus/a.txt', 'corpus/sub/b.txt', 'corpus/a.txt#1', `${first.split(/[\\/]/).pop()}/single.jsonl:1`];
    expect(await ids(first, tempDir())).toEqual(expected);
    // The same files elsewhere, read from another working folder: the same ids, so the same split.
    const moved = place(join(tempDir(), first.split(/[\\/]/).pop()!));
    expect(await ids(moved, tempDir())).toEqual(expected);
    // Inside the base folder, ids stay relative to it, as before.
    expect((await all(await textSource({ type: 'text', paths: ['corpus/*.txt'], unit: 'file' }, first))).map((d) => d.id)).toEqual(['corpus/a.txt']);
  });

  test('one document per paragraph (blank lines, CRLF and whitespace-only lines included)', async () => {
    expect(paragraphs('a\nb\n\nc\r\n \r\n\r\nd\n\n\n')).toEqual(['a\nb', 'c', 'd']);
    const d = tempDir({ 'x.txt': 'First one.\nStill first.\n\n\nSecond.\n' });
    const docs = await all(await textSource({ type: 'text', paths: ['x.txt'], unit: 'paragraph' }, d));
    expect(docs.map((x) => [x.id, x.text])).toEqual([
      ['x.txt#1', 'First one.\nStill first.'],
      ['x.txt#2', 'Second.'],
    ]);
  });

  test('missing file, glob without matches, directory: errors naming the input', async () => {
    const d = tempDir();
    let e = await failure(textSource({ type: 'text', paths: ['nope.txt'], unit: 'file' }, d));
    expect(e.message).toBe(`${join(d, 'nope.txt')}: file not found`);
    e = await failure(textSource({ type: 'text', paths: ['*.md'], unit: 'file' }, d));
    expect(e.message).toMatch(/source\.paths: "\*\.md" matches no files/);
    e = await failure(textSource({ type: 'text', paths: ['.'], unit: 'file' }, d));
    expect(e.message).toMatch(/is a directory/);
  });

  test('binary and invalid UTF-8 files fail with the file, offset and line', async () => {
    const d = tempDir({
      'bin.txt': new Uint8Array([0x68, 0x69, 0x0a, 0x00, 0x01]),
      'bad.txt': Buffer.concat([Buffer.from('ok\nfine é\n'), Buffer.from([0x61, 0xc3, 0x28])]),
    });
    let e = await failure(all(await textSource({ type: 'text', paths: ['bin.txt'], unit: 'file' }, d)));
    expect(e.message).toBe(`${join(d, 'bin.txt')}: looks binary (NUL byte at offset 3, line 2); expected UTF-8 text`);
    e = await failure(all(await textSource({ type: 'text', paths: ['bad.txt'], unit: 'file' }, d)));
    expect(e.message).toBe(`${join(d, 'bad.txt')}: invalid UTF-8 at byte 12 (line 3)`);
    expect(e.file).toBe(join(d, 'bad.txt'));
  });

  test('a 50 MB single line reads whole', async () => {
    const line = 'lorem ipsum dolor sit amet, '.repeat(1_900_000);
    expect(line.length).toBeGreaterThan(50_000_000);
    const d = tempDir({ 'big.txt': line });
    const docs = await all(await textSource({ type: 'text', paths: ['big.txt'], unit: 'file' }, d));
    expect(docs).toHaveLength(1);
    expect(docs[0]!.text === line).toBe(true);
  });
});

describe('jsonl', () => {
  test('text field, id field, blank lines skipped; default ids are path:line', async () => {
    const docs = await all(await jsonlSource({ type: 'jsonl', paths: ['datasets/tiny.jsonl'], textField: 'text', idField: 'id' }, ROOT));
    expect(docs.map((d) => d.id)).toEqual(['note-1', 'note-2', 'note-3', 'note-4', 'note-5']);
    expect(docs[3]!.origin).toMatch(/tiny\.jsonl:5$/);
    const byLine = await all(await jsonlSource({ type: 'jsonl', paths: ['datasets/tiny.jsonl'], textField: 'meta.lang', idField: null }, ROOT));
    expect(byLine.map((d) => `${d.id}=${d.text}`)).toEqual([
      'datasets/tiny.jsonl:1=en',
      'datasets/tiny.jsonl:2=en',
      'datasets/tiny.jsonl:3=zh',
      'datasets/tiny.jsonl:5=en',
      'datasets/tiny.jsonl:6=zh',
    ]);
  });

  test('malformed lines fail with file and line number', async () => {
    const d = tempDir({
      'bad.jsonl': '{"text": "fine"}\n{"text": "broken\n',
      'array.jsonl': '[1, 2]\n',
      'field.jsonl': '{"text": "a"}\n\n{"body": "b"}\n',
      'type.jsonl': '{"text": 42}\n',
      'id.jsonl': '{"text": "a"}\n',
    });
    const src = (file: string, idField: string | null = null) => jsonlSource({ type: 'jsonl', paths: [file], textField: 'text', idField }, d);
    expect((await failure(all(await src('bad.jsonl')))).message).toMatch(new RegExp(`^${join(d, 'bad.jsonl')}:2: invalid JSON`));
    expect((await failure(all(await src('array.jsonl')))).message).toBe(`${join(d, 'array.jsonl')}:1: expected a JSON object per line`);
    expect((await failure(all(await src('field.jsonl')))).message).toBe(`${join(d, 'field.jsonl')}:3: field "text" is missing`);
    expect((await failure(all(await src('type.jsonl')))).message).toBe(`${join(d, 'type.jsonl')}:1: field "text" is not a string (42)`);
    expect((await failure(all(await src('id.jsonl', 'id')))).message).toBe(`${join(d, 'id.jsonl')}:1: id field "id" is missing`);
  });

  test('binary and invalid UTF-8 fail with the line', async () => {
    const d = tempDir({
      'bin.jsonl': Buffer.concat([Buffer.from('{"text": "a"}\n{"text": "b'), Buffer.from([0]), Buffer.from('"}\n')]),
      'bad.jsonl': Buffer.concat([Buffer.from('{"text": "a"}\n{"text": "b"}\n{"text": "'), Buffer.from([0xff]), Buffer.from('"}\n')]),
    });
    const src = (file: string) => jsonlSource({ type: 'jsonl', paths: [file], textField: 'text', idField: null }, d);
    expect((await failure(all(await src('bin.jsonl')))).message).toBe(`${join(d, 'bin.jsonl')}:2: looks binary (NUL byte at offset 25); expected UTF-8 text`);
    expect((await failure(all(await src('bad.jsonl')))).message).toBe(`${join(d, 'bad.jsonl')}:3: invalid UTF-8 at byte 38`);
  });

  test('a 50 MB single-line record reads whole', async () => {
    const text = 'words and more words. '.repeat(2_400_000);
    const d = tempDir();
    writeFileSync(join(d, 'big.jsonl'), `${JSON.stringify({ text })}\n${JSON.stringify({ text: 'small' })}\n`);
    const docs = await all(await jsonlSource({ type: 'jsonl', paths: ['big.jsonl'], textField: 'text', idField: null }, d));
    expect(docs.map((x) => x.text.length)).toEqual([text.length, 5]);
  });
});

describe('UTF-8 reading', () => {
  test('invalidUtf8At finds overlongs, surrogates, stray and cut-off bytes', () => {
    const at = (bytes: number[], final = true) => invalidUtf8At(Uint8Array.from(bytes), final);
    expect(at([0x61, 0xc3, 0xa9, 0xe4, 0xbd, 0xa0, 0xf0, 0x9f, 0x98, 0x80])).toBe(-1);
    expect(at([0x61, 0xc0, 0xaf])).toBe(1); // overlong '/'
    expect(at([0xed, 0xa0, 0x80])).toBe(0); // surrogate
    expect(at([0x61, 0x80])).toBe(1); // stray continuation byte
    expect(at([0x61, 0xe4, 0xbd])).toBe(1); // cut off at the end
    expect(at([0x61, 0xe4, 0xbd], false)).toBe(-1); // ...which is fine mid-stream
    expect(at([0xf4, 0x90, 0x80, 0x80])).toBe(0); // past U+10FFFF
  });

  test('lines survive multi-byte characters cut by the 1 MiB read chunks', async () => {
    const line = '好'.repeat(400_000); // 1.2 MB of 3-byte characters: chunk edges fall mid-character
    const d = tempDir({ 'cjk.txt': `${line}\r\n${line}\nlast` });
    const lines: Array<[number, number]> = [];
    for await (const l of readUtf8Lines(join(d, 'cjk.txt'))) lines.push([l.line, l.text.length]);
    expect(lines).toEqual([
      [1, 400_000],
      [2, 400_000],
      [3, 4],
    ]);
  });
});
