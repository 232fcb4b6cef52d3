import { createReadStream, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { DataError } from '../errors.js';

/**
 * Finds the first byte of `bytes` that is not valid UTF-8 (overlongs, surrogates and code points
 * past U+10FFFF included), or -1. `final` = the data ends here (a cut-off sequence is invalid).
 */
export function invalidUtf8At(bytes: Uint8Array, final = true): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min, cp] = [1, 0x80, b & 0x1f];
    else if (b >= 0xe0 && b <= 0xef) [need, min, cp] = [2, 0x800, b & 0x0f];
    else if (b >= 0xf0 && b <= 0xf4) [need, min, cp] = [3, 0x10000, b & 0x07];
    else return i;
    if (i + need >= n) {
      for (let k = i + 1; k < n; k++) if ((bytes[k]! & 0xc0) !== 0x80) return i;
      return final ? i : -1;
    }
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function lineOf(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/** A file's size in bytes, or a DataError naming it when it is missing or not a file. */
export function checkFile(file: string): number {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(`${file}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(e)})`}`, file);
  }
  if (st.isDirectory()) throw new DataError(`${file}: is a directory (use a glob such as ${file}/*.txt)`, file);
  return st.size;
}

/**
 * Reads a whole UTF-8 text file. Fails naming the file for: missing, binary (a NUL byte) and
 * invalid UTF-8 (with byte offset and line). A leading byte-order mark is dropped.
 */
export function readUtf8File(file: string): string {
  checkFile(file);
  const bytes = readFileSync(file);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new DataError(`${file}: looks binary (NUL byte at offset ${nul}, line ${lineOf(bytes, nul)}); expected UTF-8 text`, file);
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    return text;
  } catch {
    const at = invalidUtf8At(bytes);
    throw new DataError(`${file}: invalid UTF-8 at byte ${at} (line ${lineOf(bytes, Math.max(at, 0))})`, file);
  }
}

/**
 * Streams a UTF-8 file line by line (`\n`, a trailing `\r` removed), with 1-based line numbers,
 * in bounded memory except for the longest line. Binary content and invalid UTF-8 fail naming
 * the file and line.
 */
export async function* readUtf8Lines(file: string): AsyncGenerator<{ line: number; text: string }> {
  checkFile(file);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let lineNo = 1;
  let pending = '';
  let offset = 0;
  let pendingBytes: Uint8Array = new Uint8Array(0);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const nul = chunk.indexOf(0);
    if (nul >= 0) {
      throw new DataError(`${file}:${lineNo + countNewlines(chunk, nul)}: looks binary (NUL byte at offset ${offset + nul}); expected UTF-8 text`, file);
    }
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      const joined = new Uint8Array(pendingBytes.length + chunk.length);
      joined.set(pendingBytes);
      joined.set(chunk, pendingBytes.length);
      const at = Math.max(invalidUtf8At(joined, false), 0);
      throw new DataError(
        `${file}:${lineNo + countNewlines(joined, at)}: invalid UTF-8 at byte ${offset - pendingBytes.length + at}`,
        file,
      );
    }
    pendingBytes = tailOfIncomplete(chunk);
    offset += chunk.length;
    let start = 0;
    let nl = text.indexOf('\n');
    if (nl < 0) {
      pending += text;
      continue;
    }
    let first = true;
    while (nl >= 0) {
      let line = (first ? pending : '') + text.slice(start, nl);
      first = false;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      yield { line: lineNo++, text: line };
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    pending = text.slice(start);
  }
  let rest: string;
  try {
    rest = pending + decoder.decode();
  } catch {
    throw new DataError(`${file}:${lineNo}: invalid UTF-8 at byte ${offset - pendingBytes.length} (the file ends inside a character)`, file);
  }
  if (rest.length > 0) yield { line: lineNo, text: rest.endsWith('\r') ? rest.slice(0, -1) : rest };
}

function countNewlines(bytes: Uint8Array, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (bytes[i] === 0x0a) n++;
  return n;
}

/** The bytes of an unfinished UTF-8 sequence at the end of a chunk (kept by the decoder). */
function tailOfIncomplete(chunk: Uint8Array): Uint8Array {
  for (let k = 1; k <= 3 && k <= chunk.length; k++) {
    const b = chunk[chunk.length - k]!;
    if ((b & 0xc0) === 0x80) continue;
    const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return len > k ? chunk.slice(chunk.length - k) : new Uint8Array(0);
  }
  return new Uint8Array(0);
}

/** One input file: its absolute path and the name its documents' ids start with. */
export interface InputFile {
  path: string;
  /** See {@link inputName}. */
  name: string;
}

/**
 * Resolves config paths (files or globs, relative to `baseDir`) to existing files, sorted within
 * each pattern and without duplicates. A missing file or a glob that matches nothing fails.
 */
export async function resolveInputs(patterns: readonly string[], baseDir: string, key: string): Promise<InputFile[]> {
  const out: InputFile[] = [];
  const seen = new Set<string>();
  for (const p of patterns) {
    let files: string[];
    let base: string;
    if (isDynamicPattern(p)) {
      files = (await glob(p, { cwd: baseDir, absolute: true, onlyFiles: true, expandDirectories: false })).map((f) => resolve(f)).sort();
      if (files.length === 0) throw new DataError(`${key}: "${p}" matches no files (relative to ${baseDir})`);
      base = resolve(baseDir, staticPrefix(p));
    } else {
      const f = isAbsolute(p) ? p : resolve(baseDir, p);
      checkFile(f);
      files = [f];
      base = dirname(f);
    }
    for (const f of files) {
      if (!seen.has(f)) {
        seen.add(f);
        out.push({ path: f, name: inputName(f, baseDir, base) });
      }
    }
  }
  return out;
}

/**
 * The name a file's document ids start with, so that a corpus keeps its ids (and hence its
 * hashed split) wherever it lies: inside `baseDir`, the path relative to it with `/` separators
 * (`datasets/samples/en-bread.txt`); outside it, the path relative to the folder above the
 * pattern's fixed part (the glob `/data/corpus/*.txt` names `/data/corpus/b.txt` `corpus/b.txt`,
 * the single file `/data/x.jsonl` `data/x.jsonl`), never an absolute path, which would change
 * with the clone's or the corpus's location.
 */
export function inputName(file: string, baseDir: string, patternBase: string): string {
  const inside = relative(baseDir, file);
  if (!inside.startsWith('..') && !isAbsolute(inside)) return slashes(inside);
  const root = dirname(patternBase) === patternBase ? patternBase : dirname(patternBase);
  return slashes(relative(root, file));
}

/** The leading path segments of a glob that contain no glob syntax (`.` when the first does). */
function staticPrefix(pattern: string): string {
  const parts = pattern.split(/[\\/]/);
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (isDynamicPattern(part)) break;
    fixed.push(part);
  }
  if (fixed.length === 0) return '.';
  return fixed.join(sep) || sep; // '' for a pattern such as /*.txt: the root
}

function slashes(path: string): string {
  return path.split(sep).join('/');
}
