import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireRunLock, isLeftoverLockTemp, isLockTempFile, LOCK_FILE, LOCK_TEMP_MAX_AGE_MS, processAlive, readRunLock, runLockState, RunLockedError, RunLockLostError, type LockHolder } from './lock.js';
import { listRuns } from './reader.js';
import { createRun, openRunForResume, RunAlreadyDoneError } from './writer.js';

const repoRoot = join(__dirname, '..', '..', '..');
const childScript = join(__dirname, 'testing', 'lock-child.ts');
const machine = { cpu: 'test', cores: 1, memoryGb: 1, os: 'test', node: 'v20' };

let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runs-lock-'));
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts lock-child.ts and resolves with the child and its first output line. */
function child(mode: 'acquire' | 'create', path: string): Promise<{ proc: ChildProcess; line: string }> {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', childScript, mode, path], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  return new Promise((done, fail) => {
    let out = '';
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) done({ proc, line: out.slice(0, nl) });
    });
    proc.on('exit', (code) => fail(new Error(`lock-child ${mode} exited (${code}) before reporting: ${err}`)));
  });
}

function killed(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((done) => {
    proc.once('exit', () => done());
    proc.kill(signal);
  });
}

function lockOf(holder: Partial<LockHolder>): string {
  const now = new Date().toISOString();
  return JSON.stringify({ pid: 1, hostname: hostname(), startedAt: now, refreshedAt: now, leaseMs: 60_000, command: 'exp run', token: 'x', ...holder });
}

describe('acquireRunLock', () => {
  it('refuses a second holder with a message naming the first; release lets the next one in', () => {
    const first = acquireRunLock(dir, { autoRefresh: false });
    expect(readRunLock(dir)).toMatchObject({ pid: process.pid, hostname: hostname(), leaseMs: 60_000 });
    expect(() => acquireRunLock(dir)).toThrow(new RegExp(`run folder .* is in use by pid ${process.pid} on host ${hostname()} \\(since `));
    first.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    acquireRunLock(dir, { autoRefresh: false }).release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a live process keeps its lock; once it is SIGKILLed the lock is stale and taken over', async () => {
    const { proc, line } = await child('acquire', dir);
    expect(line).toBe('won');
    let error: unknown;
    try {
      acquireRunLock(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RunLockedError);
    expect((error as Error).message).toContain(`pid ${proc.pid} on host ${hostname()}`);
    expect((error as Error).message).toContain('lock-child.ts acquire');
    await killed(proc, 'SIGKILL');
    expect(runLockState(dir)).toMatchObject({ state: 'stale', reason: `process ${proc.pid} is gone` });
    const lock = acquireRunLock(dir, { autoRefresh: false });
    expect(readRunLock(dir)?.pid).toBe(process.pid);
    lock.release();
  });

  it('of processes racing for a stale lock exactly one wins, the others are told who', async () => {
    writeFileSync(join(dir, LOCK_FILE), lockOf({ pid: 0x3ffffff }));
    const results = await Promise.all([1, 2, 3].map(() => child('acquire', dir)));
    const winners = results.filter((r) => r.line === 'won');
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.line !== 'won') expect(r.line).toContain(`refused run folder ${dir} is in use by pid ${winners[0]!.proc.pid} `);
    expect(readRunLock(dir)?.pid).toBe(winners[0]!.proc.pid);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
  });

  it.skipIf(process.platform !== 'linux')('takes over from a holder that has exited but not been reaped (a zombie)', async () => {
    // The shell forks a short sleep, then becomes a long one that never waits for it: the short
    // one exits and stays a zombie, as a killed worker's job process does until it is reaped.
    const parent = spawn('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(parent);
    const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (c: Buffer) => resolve(c.toString()))));
    for (let t0 = Date.now(); !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ') && Date.now() - t0 < 5_000; ) await new Promise((r) => setTimeout(r, 20));
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toContain(') Z '); // still there for kill(pid, 0)
    expect(processAlive(pid)).toBe(false);
    expect(processAlive(process.pid)).toBe(true);
    writeFileSync(join(dir, LOCK_FILE), lockOf({ pid }));
    expect(runLockState(dir)).toMatchObject({ state: 'stale', reason: `process ${pid} is gone` });
    acquireRunLock(dir, { autoRefresh: false }).release();
  });

  it('honours another host\'s lock until its lease expires', () => {
    const t = Date.parse('2026-12-04T12:00:00Z');
    writeFileSync(join(dir, LOCK_FILE), lockOf({ hostname: 'worker-7', refreshedAt: new Date(t).toISOString(), leaseMs: 30_000 }));
    expect(() => acquireRunLock(dir, { now: () => t + 29_000 })).toThrow(/is in use by pid 1 on host worker-7/);
    expect(runLockState(dir, { now: () => t + 31_000 })).toMatchObject({ state: 'stale', reason: 'lease expired at 2026-12-04T12:00:30.000Z (host worker-7)' });
    const lock = acquireRunLock(dir, { now: () => t + 31_000, autoRefresh: false });
    expect(readRunLock(dir)?.hostname).toBe(hostname());
    lock.release();
  });

  it('refresh renews the lease (on a timer too), and fails once the lock was taken over', async () => {
    let clock = Date.parse('2026-12-04T12:00:00Z');
    const lock = acquireRunLock(dir, { autoRefresh: false, now: () => clock });
    clock += 5000;
    lock.refresh();
    expect(readRunLock(dir)?.refreshedAt).toBe('2026-12-04T12:00:05.000Z');
    writeFileSync(join(dir, LOCK_FILE), lockOf({ hostname: 'worker-7', token: 'other' }));
    expect(() => lock.refresh()).toThrow(RunLockLostError);
    expect(() => lock.refresh()).toThrow(/lost its lock \(now held by pid 1 on host worker-7/);
    lock.release();
    expect(readRunLock(dir)?.hostname).toBe('worker-7');
    rmSync(join(dir, LOCK_FILE));

    const timed = acquireRunLock(dir, { leaseMs: 60 });
    const first = readRunLock(dir)!.refreshedAt;
    await new Promise((r) => setTimeout(r, 120));
    expect(Date.parse(readRunLock(dir)!.refreshedAt)).toBeGreaterThan(Date.parse(first));
    timed.release();
  });
});

describe('run folders and their lock', () => {
  it('a run whose process was SIGKILLed reads as crashed, and can be resumed', async () => {
    const { proc, line } = await child('create', dir);
    expect(line).toBe('ready');
    const runDir = join(dir, 'x', 'r');
    expect((await listRuns(dir))[0]).toMatchObject({ ok: true, status: 'running', meta: { status: 'running' } });
    expect(() => openRunForResume(runDir)).toThrow(`is in use by pid ${proc.pid}`);
    await killed(proc, 'SIGKILL');
    expect((await listRuns(dir))[0]).toMatchObject({ ok: true, status: 'crashed', meta: { status: 'running' } });
    const run = openRunForResume(runDir, { onWarning: () => {} });
    expect((await listRuns(dir))[0]).toMatchObject({ status: 'running' });
    run.setStatus('interrupted');
    expect(existsSync(join(runDir, LOCK_FILE))).toBe(false);
    expect((await listRuns(dir))[0]).toMatchObject({ status: 'interrupted' });
  });

  it('resuming a done run is refused (nothing to continue), without touching the folder', () => {
    const run = createRun({ root: dir, experiment: 'x', runId: 'done', config: {}, seed: 1, backend: 'cpu', git: { sha: null, dirty: false }, machine });
    run.setStatus('done');
    const meta = readFileSync(join(run.dir, 'meta.json'), 'utf8');
    expect(() => openRunForResume(run.dir)).toThrow(RunAlreadyDoneError);
    expect(() => openRunForResume(run.dir)).toThrow(`run ${run.dir} is already done; nothing to resume`);
    expect(readFileSync(join(run.dir, 'meta.json'), 'utf8')).toBe(meta);
    expect(existsSync(join(run.dir, LOCK_FILE))).toBe(false);
  });

  it("resume leaves the lock's temp files of a process taking the lock right now alone (its link(2) would fail), and removes old ones", () => {
    const run = createRun({ root: dir, experiment: 'x', runId: 'taker', config: {}, seed: 1, backend: 'cpu', git: { sha: null, dirty: false }, machine });
    run.setStatus('interrupted');
    // What a concurrent `openRunForResume` has on disk between writing its lock and linking it (or moving a stale one aside).
    const live = ['.run.lock.999.ab12cd34.tmp', '.run.lock.stale.999.ab12cd34.tmp'];
    for (const name of live) writeFileSync(join(run.dir, name), '{}');
    const warnings: string[] = [];
    openRunForResume(run.dir, { onWarning: (l) => warnings.push(l) }).setStatus('interrupted');
    expect(readdirSync(run.dir).filter((n) => n.startsWith('.')).sort()).toEqual(live);
    expect(warnings).toEqual([]);
    expect(isLockTempFile('.run.lock.999.ab12cd34.tmp')).toBe(true);
    expect(isLockTempFile('.meta.json.999.ab12cd34.tmp')).toBe(false);
    // A process killed mid-acquisition leaves one: older than a few minutes, it is a leftover.
    const path = join(run.dir, live[0]!);
    expect(isLeftoverLockTemp(path)).toBe(false);
    expect(isLeftoverLockTemp(path, Date.now() + LOCK_TEMP_MAX_AGE_MS + 1000)).toBe(true);
    expect(isLeftoverLockTemp(join(run.dir, 'gone.tmp'), Date.now() + LOCK_TEMP_MAX_AGE_MS + 1000)).toBe(false);
  });

  it('resume removes the temp files and folders that killed writers left, saying so', () => {
    const run = createRun({ root: dir, experiment: 'x', runId: 'left', config: {}, seed: 1, backend: 'cpu', git: { sha: null, dirty: false }, machine });
    run.setStatus('interrupted');
    mkdirSync(join(run.dir, 'checkpoints', '.step-00000004.123.tmp'));
    writeFileSync(join(run.dir, 'checkpoints', '.latest.123.ab12cd34.tmp'), 'step-00000004\n');
    writeFileSync(join(run.dir, '.meta.json.123.ab12cd34.tmp'), '{');
    const warnings: string[] = [];
    openRunForResume(run.dir, { onWarning: (l) => warnings.push(l) }).setStatus('interrupted');
    expect(readdirSync(join(run.dir, 'checkpoints'))).toEqual([]);
    expect(readdirSync(run.dir).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(warnings.sort()).toEqual(
      [join(run.dir, '.meta.json.123.ab12cd34.tmp'), join(run.dir, 'checkpoints', '.latest.123.ab12cd34.tmp'), join(run.dir, 'checkpoints', '.step-00000004.123.tmp')]
        .map((f) => `removed ${f} (left by a writer that was killed)`)
        .sort(),
    );
  });
});
