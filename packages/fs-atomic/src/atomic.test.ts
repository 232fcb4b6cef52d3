import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtomicWriteError, writeFileAtomic, writeJsonAtomic, type AtomicFs } from './atomic.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fs-atomic-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** node:fs with `writeSync` replaced. */
function fsWith(writeSync: AtomicFs['writeSync']): AtomicFs {
  return { openSync: fs.openSync, writeSync, fsyncSync: fs.fsyncSync, closeSync: fs.closeSync, renameSync: fs.renameSync, rmSync: fs.rmSync };
}

describe('writeFileAtomic', () => {
  it('replaces the content and leaves no temp file', () => {
    const file = join(dir, 'meta.json');
    writeJsonAtomic(file, { a: 1 });
    writeJsonAtomic(file, { a: 2 });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ a: 2 });
    expect(readdirSync(dir)).toEqual(['meta.json']);
  });

  it('publishes a new file (new inode) instead of rewriting the old one in place', () => {
    const file = join(dir, 'summary.json');
    writeFileSync(file, 'old');
    const before = statSync(file).ino;
    writeFileAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).ino).not.toBe(before);
  });

  it('a write that throws half-way leaves the old content, no temp file, and names the file', () => {
    const file = join(dir, 'latest');
    writeFileSync(file, 'step-00000100\n');
    let calls = 0;
    const failing = fsWith((fd, buffer, offset, length) => {
      if (calls++ > 0) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      return fs.writeSync(fd, buffer, offset, Math.min(length, 4));
    });
    expect(() => writeFileAtomic(file, 'step-00000200\n', { fs: failing })).toThrow(`cannot write ${file}: EIO`);
    expect(readFileSync(file, 'utf8')).toBe('step-00000100\n');
    expect(readdirSync(dir)).toEqual(['latest']);
  });

  it('finishes short writes, and fails naming the file when a write makes no progress', () => {
    const file = join(dir, 'params.safetensors');
    const data = new Uint8Array(1000).map((_, i) => i % 251);
    const trickle = fsWith((fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, Math.min(length, 7)));
    writeFileAtomic(file, data, { fs: trickle });
    expect(new Uint8Array(readFileSync(file))).toEqual(data);

    const full = fsWith((fd, buffer, offset, length) => (offset >= 512 ? 0 : fs.writeSync(fd, buffer, offset, Math.min(length, 512 - offset))));
    let error: unknown;
    try {
      writeFileAtomic(file, new Uint8Array(2000), { fs: full });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AtomicWriteError);
    expect((error as AtomicWriteError).message).toBe(`cannot write ${file}: short write: 512 of 2000 bytes written, then the write made no progress (disk full?)`);
    expect(new Uint8Array(readFileSync(file))).toEqual(data);
    expect(readdirSync(dir)).toEqual(['params.safetensors']);
  });

  it('removes its temp file when the final rename fails', () => {
    const target = join(dir, 'summary.json');
    mkdirSync(join(target, 'blocker'), { recursive: true });
    expect(() => writeFileAtomic(target, 'x')).toThrow(`cannot write ${target}`);
    expect(readdirSync(dir)).toEqual(['summary.json']);
  });
});

/** A 1 MiB tmpfs, when this process may mount one (root on Linux). */
function mountTinyTmpfs(at: string): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs root on Linux to mount a 1 MiB tmpfs';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', at], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `mount -t tmpfs failed: ${((e as { stderr?: Buffer }).stderr ?? '').toString().trim() || (e as Error).message}`;
  }
}

describe('writeFileAtomic on a full disk (real 1 MiB tmpfs)', () => {
  it('fails naming the file with ENOSPC and leaves the old content', (ctx) => {
    const mnt = join(dir, 'tiny');
    mkdirSync(mnt);
    const skip = mountTinyTmpfs(mnt);
    if (skip !== undefined) {
      ctx.skip(`skipped: ${skip}`);
      return;
    }
    try {
      const file = join(mnt, 'step-00000100.safetensors');
      writeFileAtomic(file, 'old');
      let error: unknown;
      try {
        writeFileAtomic(file, new Uint8Array(2 * 1024 * 1024).fill(7));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AtomicWriteError);
      expect((error as AtomicWriteError).code).toBe('ENOSPC');
      expect((error as Error).message).toMatch(new RegExp(`^cannot write ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
      expect(readFileSync(file, 'utf8')).toBe('old');
      expect(readdirSync(mnt)).toEqual(['step-00000100.safetensors']);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
