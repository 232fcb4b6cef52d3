/**
 * One writer per run folder: `run.lock` names the process that holds it (pid, host, start
 * time, lease). It is created with link(2), which publishes a complete file or fails when one
 * exists, so two processes can never both believe they hold it. A lock whose holder is gone is
 * stale and may be taken over: on the same host when its pid no longer runs, on another host
 * (a shared runs folder) when its lease was not refreshed in time.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { RunStatus } from './format.js';
import { fsyncDir, tempPathFor, writeAll, writeFileAtomic } from '@sentencelab/fs-atomic';

/** The lock file inside a run folder. */
export const LOCK_FILE = 'run.lock';

/** Default lease: a holder on another host that has not refreshed for this long is presumed dead. */
export const DEFAULT_LEASE_MS = 60_000;

/**
 * Temp files of the lock itself (`.run.lock.<pid>.<hex>.tmp` while a lock is published,
 * `.run.lock.stale.<pid>.<hex>.tmp` while a stale one is moved aside). Unlike other temp
 * files they are made by processes that do not hold the lock (that is how one takes it), so
 * the holder's clean-up of killed writers' leftovers must not remove a live one: a taker
 * whose temp file vanished before link(2) failed with ENOENT instead of being refused, and
 * one whose moved-aside lock vanished could no longer put back a lock it moved by mistake.
 * Each lives for milliseconds (link and rename set its ctime), so one older than this was
 * left by a process killed mid-acquisition.
 */
export const LOCK_TEMP_MAX_AGE_MS = 10 * 60_000;

/** Whether `name` (a file in a run folder) is a temp file of {@link LOCK_FILE}. */
export function isLockTempFile(name: string): boolean {
  return name.startsWith(`.${LOCK_FILE}.`) && name.endsWith('.tmp');
}

/** Whether the lock temp file at `path` is a leftover (older than {@link LOCK_TEMP_MAX_AGE_MS}); a live acquirer's is not. */
export function isLeftoverLockTemp(path: string, now: number = Date.now()): boolean {
  try {
    return now - statSync(path).ctimeMs > LOCK_TEMP_MAX_AGE_MS;
  } catch {
    return false; // already gone
  }
}

/** Whether `name` in `dir` is a lock temp file of a process taking (or refused) the lock right now: not a leftover, leave it be. */
export function isLiveLockTemp(dir: string, name: string, now: number = Date.now()): boolean {
  return isLockTempFile(name) && !isLeftoverLockTemp(join(dir, name), now);
}

/** What `run.lock` holds. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** When the lock was taken (ISO). */
  startedAt: string;
  /** Last refresh (ISO); the lease runs from here. */
  refreshedAt: string;
  leaseMs: number;
  /** The holder's command line, for messages. */
  command: string;
  /** Random id of this acquisition (tells a refreshed lock from a new one). */
  token: string;
}

export type LockState =
  | { state: 'free' }
  | { state: 'held'; holder: LockHolder }
  | { state: 'stale'; holder: LockHolder | undefined; reason: string };

export interface AcquireRunLockOptions {
  /** Lease in ms (default 60 s): how long other hosts wait for a refresh before taking over. */
  leaseMs?: number;
  /** Refresh the lease on a timer every leaseMs/3 while the lock is held (default true; the timer does not keep the process alive). */
  autoRefresh?: boolean;
  /** Clock, for tests of lease expiry. */
  now?: () => number;
}

/** The lock is held by a live process. */
export class RunLockedError extends Error {
  constructor(
    readonly runDir: string,
    readonly holder: LockHolder,
  ) {
    super(`run folder ${runDir} is in use by ${describeHolder(holder)}; wait for it to finish or stop that process (a lock whose process is gone is taken over)`);
    this.name = 'RunLockedError';
  }
}

/** Our lock was taken over (our lease expired while another host looked) or removed. */
export class RunLockLostError extends Error {
  constructor(readonly runDir: string, detail: string) {
    super(`run folder ${runDir}: lost its lock (${detail}); stop writing to it`);
    this.name = 'RunLockLostError';
  }
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on host ${h.hostname} (since ${h.startedAt}, lease refreshed ${h.refreshedAt}${h.command ? `, command: ${h.command}` : ''})`;
}

/** A held lock. `release()` is idempotent; `refresh()` renews the lease and throws {@link RunLockLostError} if the lock is no longer ours. */
export interface RunLock {
  readonly runDir: string;
  readonly file: string;
  readonly holder: Readonly<LockHolder>;
  refresh(): void;
  release(): void;
  readonly released: boolean;
}

/** Reads `run.lock`; undefined when there is none, or when it is unreadable (reported as stale by {@link runLockState}). */
export function readRunLock(runDir: string): LockHolder | undefined {
  return parseLock(join(resolve(runDir), LOCK_FILE)).holder;
}

function parseLock(file: string): { exists: boolean; holder?: LockHolder } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false };
    throw e;
  }
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.hostname === 'string' && typeof h.refreshedAt === 'string' && typeof h.leaseMs === 'number' && typeof h.token === 'string') {
      return { exists: true, holder: { startedAt: h.refreshedAt, command: '', ...h } as LockHolder };
    }
  } catch {
    // falls through: an unreadable lock
  }
  return { exists: true };
}

/**
 * Whether a process with this pid runs on this machine (EPERM: it runs, as another user). On
 * Linux a zombie counts as gone: it has exited and only waits to be reaped by whoever adopted
 * it, which can take seconds (or forever, in a container whose init does not reap), and it can
 * write nothing more.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true; // no procfs (macOS, Windows): the signal probe decides
  }
  // "pid (comm) S ...": the state letter follows the command's last closing parenthesis.
  const close = stat.lastIndexOf(')');
  return stat.charAt(close + 2) !== 'Z';
}

/** Held, stale (and why) or free. Same host: stale when the pid is gone. Other hosts: stale when the lease expired. */
export function runLockState(runDir: string, options: { now?: () => number } = {}): LockState {
  const { exists, holder } = parseLock(join(resolve(runDir), LOCK_FILE));
  if (!exists) return { state: 'free' };
  if (!holder) return { state: 'stale', holder: undefined, reason: `${LOCK_FILE} is unreadable` };
  if (holder.hostname === osHostname()) {
    return processAlive(holder.pid) ? { state: 'held', holder } : { state: 'stale', holder, reason: `process ${holder.pid} is gone` };
  }
  const now = (options.now ?? Date.now)();
  const expires = Date.parse(holder.refreshedAt) + holder.leaseMs;
  if (!(now <= expires)) return { state: 'stale', holder, reason: `lease expired at ${new Date(expires).toISOString()} (host ${holder.hostname})` };
  return { state: 'held', holder };
}

/**
 * Takes the run folder's lock, or throws {@link RunLockedError} naming the live holder. A stale
 * lock (holder gone) is taken over. The returned lock refreshes its lease on a timer unless
 * `autoRefresh: false`; call `release()` when done writing.
 */
export function acquireRunLock(runDir: string, options: AcquireRunLockOptions = {}): RunLock {
  const dir = resolve(runDir);
  const file = join(dir, LOCK_FILE);
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  if (!(leaseMs > 0)) throw new Error(`acquireRunLock: leaseMs must be > 0, got ${leaseMs}`);
  const startedAt = new Date(now()).toISOString();
  const holder: LockHolder = {
    pid: process.pid,
    hostname: osHostname(),
    startedAt,
    refreshedAt: startedAt,
    leaseMs,
    command: process.argv.slice(1).join(' ').slice(0, 300),
    token: randomBytes(8).toString('hex'),
  };
  for (let attempt = 0; ; attempt++) {
    if (tryCreate(file, holder)) break;
    const state = runLockState(dir, { now });
    if (state.state === 'held') throw new RunLockedError(dir, state.holder);
    if (attempt >= 5) throw new Error(`run folder ${dir}: could not take over the stale ${LOCK_FILE} (it kept changing)`);
    if (state.state === 'stale') breakStale(file, state.holder?.token);
  }
  return new HeldLock(dir, file, holder, options.autoRefresh ?? true, now);
}

/** Publishes `holder` as `file` if no lock exists (link(2) fails with EEXIST otherwise). */
function tryCreate(file: string, holder: LockHolder): boolean {
  const tmp = tempPathFor(file);
  const fd = openSync(tmp, 'wx');
  try {
    writeAll({ writeSync }, fd, Buffer.from(JSON.stringify(holder, null, 2) + '\n'), file);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
    fsyncDir(dirname(file));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Moves a stale lock aside, then checks that what was moved is the lock judged stale: if a
 * new holder took over in between, its lock is put back (link fails if yet another exists).
 */
function breakStale(file: string, token: string | undefined): void {
  const aside = tempPathFor(`${file}.stale`);
  try {
    renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const moved = parseLock(aside).holder;
  if (moved !== undefined && moved.token !== token) {
    try {
      linkSync(aside, file);
    } catch {
      // Yet another process holds it now; it was judged by its own content.
    }
  }
  rmSync(aside, { force: true });
}

class HeldLock implements RunLock {
  private current: LockHolder;
  private timer: NodeJS.Timeout | undefined;
  released = false;

  constructor(
    readonly runDir: string,
    readonly file: string,
    holder: LockHolder,
    autoRefresh: boolean,
    private readonly now: () => number,
  ) {
    this.current = holder;
    if (autoRefresh) {
      this.timer = setInterval(() => {
        try {
          this.refresh();
        } catch (e) {
          process.emitWarning(e as Error);
        }
      }, Math.max(10, Math.floor(holder.leaseMs / 3)));
      this.timer.unref();
    }
  }

  get holder(): Readonly<LockHolder> {
    return this.current;
  }

  refresh(): void {
    if (this.released) throw new RunLockLostError(this.runDir, 'it was released');
    const onDisk = parseLock(this.file).holder;
    if (onDisk?.token !== this.current.token) {
      this.stopTimer();
      throw new RunLockLostError(this.runDir, onDisk ? `now held by ${describeHolder(onDisk)}` : `${LOCK_FILE} was removed`);
    }
    const next = { ...this.current, refreshedAt: new Date(this.now()).toISOString() };
    writeFileAtomic(this.file, JSON.stringify(next, null, 2) + '\n');
    this.current = next;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.stopTimer();
    if (parseLock(this.file).holder?.token !== this.current.token) return;
    try {
      unlinkSync(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** A run's status as readers should show it: `crashed` when meta.json says running but no live process holds its lock. */
export type RunDisplayStatus = RunStatus | 'crashed';

export function runDisplayStatus(runDir: string, status: RunStatus): RunDisplayStatus {
  if (status !== 'running') return status;
  return runLockState(runDir).state === 'held' ? 'running' : 'crashed';
}
