import * as nodeFs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** The file-system calls an atomic write makes; tests pass their own to simulate a full disk. */
export interface AtomicFs {
  openSync: typeof nodeFs.openSync;
  writeSync: (fd: number, buffer: Uint8Array, offset: number, length: number) => number;
  fsyncSync: typeof nodeFs.fsyncSync;
  closeSync: typeof nodeFs.closeSync;
  renameSync: typeof nodeFs.renameSync;
  rmSync: typeof nodeFs.rmSync;
}

const realFs: AtomicFs = {
  openSync: nodeFs.openSync,
  writeSync: (fd, buffer, offset, length) => nodeFs.writeSync(fd, buffer, offset, length),
  fsyncSync: nodeFs.fsyncSync,
  closeSync: nodeFs.closeSync,
  renameSync: nodeFs.renameSync,
  rmSync: nodeFs.rmSync,
};

/** A write that did not complete; `file` is the final name the caller asked for, `code` the errno code. */
export class AtomicWriteError extends Error {
  readonly file: string;
  readonly code: string | undefined;
  constructor(file: string, reason: string, options: { cause?: unknown; code?: string | undefined } = {}) {
    super(`cannot write ${file}: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AtomicWriteError';
    this.file = file;
    this.code = options.code;
  }
}

export interface AtomicWriteOptions {
  /** File-system calls (default node:fs); for tests that simulate short writes or a full disk. */
  fs?: AtomicFs;
}

/** The temp name a write of `file` uses: a dot-name in the same folder, unique per process and call. */
export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes `data` to `file` so that a reader (or a crash) sees either the old or the new
 * content, never a mix: temp file in the same folder, every byte written (a short write is
 * retried, a write that makes no progress fails), fsync, rename, fsync the folder. A failure
 * at any point removes the temp file, leaves `file` as it was and throws
 * {@link AtomicWriteError} naming `file` (`no space left on device (ENOSPC)` on a full disk).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const fs = options.fs ?? realFs;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = tempPathFor(file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    writeAll(fs, fd, bytes, file);
    fs.fsyncSync(fd);
    const closing = fd;
    fd = undefined;
    fs.closeSync(closing);
    fs.renameSync(tmp, file);
  } catch (error) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // The write already failed; that error is the one to report.
      }
    }
    fs.rmSync(tmp, { force: true });
    throw asWriteError(file, error);
  }
  fsyncDir(dirname(file));
}

export function writeJsonAtomic(file: string, value: unknown, options: AtomicWriteOptions = {}): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', options);
}

/** Writes all of `bytes` at the file position of `fd`; `file` names the error when the disk will not take them. */
export function writeAll(fs: Pick<AtomicFs, 'writeSync'>, fd: number, bytes: Uint8Array, file: string): void {
  let done = 0;
  while (done < bytes.length) {
    const n = fs.writeSync(fd, bytes, done, bytes.length - done);
    if (!Number.isInteger(n) || n <= 0) {
      throw new AtomicWriteError(file, `short write: ${done} of ${bytes.length} bytes written, then the write made no progress (disk full?)`, { code: 'ENOSPC' });
    }
    done += n;
  }
}

function asWriteError(file: string, error: unknown): AtomicWriteError {
  if (error instanceof AtomicWriteError) return error.file === file ? error : new AtomicWriteError(file, error.message, { cause: error, code: error.code });
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC') return new AtomicWriteError(file, 'no space left on device (ENOSPC)', { cause: error, code });
  if (code === 'EDQUOT') return new AtomicWriteError(file, 'disk quota exceeded (EDQUOT)', { cause: error, code });
  return new AtomicWriteError(file, (error as Error | undefined)?.message ?? String(error), { cause: error, code });
}

/** Makes a rename durable; some platforms cannot open folders, where rename is already durable enough. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = nodeFs.openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    nodeFs.fsyncSync(fd);
  } catch {
    // EISDIR/EINVAL on platforms without directory fsync: nothing more to do.
  } finally {
    nodeFs.closeSync(fd);
  }
}

/** Whether a file name is one of our temp files (`.<name>.<pid>.<random>.tmp`). */
export function isTempFile(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}
