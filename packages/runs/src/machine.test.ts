import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { machineInfoSchema } from './format.js';
import { collectGitInfo, collectMachineInfo, collectPackageVersions } from './machine.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runs-machine-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('collectGitInfo', () => {
  it('reads HEAD and notices uncommitted changes to tracked files', () => {
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], { cwd: dir, stdio: 'pipe' });
    git('init', '-q');
    writeFileSync(join(dir, 'a.txt'), 'one');
    git('add', 'a.txt');
    git('commit', '-q', '-m', 'first');
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
    expect(collectGitInfo(dir)).toEqual({ sha: head, dirty: false });
    writeFileSync(join(dir, 'untracked.txt'), 'ignored for dirtiness');
    expect(collectGitInfo(dir).dirty).toBe(false);
    writeFileSync(join(dir, 'a.txt'), 'two');
    expect(collectGitInfo(dir)).toEqual({ sha: head, dirty: true });
  });

  it('gives sha null outside a git checkout', () => {
    expect(collectGitInfo(dir)).toEqual({ sha: null, dirty: false });
  });
});

describe('collectMachineInfo / collectPackageVersions', () => {
  it('describes this machine in the meta.json shape', () => {
    const info = collectMachineInfo();
    expect(machineInfoSchema.parse(info)).toEqual(info);
    expect(info.node).toBe(process.version);
  });

  it('finds installed versions by walking up node_modules, leaving out unknown packages', () => {
    const here = fileURLToPath(new URL('.', import.meta.url));
    const versions = collectPackageVersions(['yaml', 'zod', 'no-such-package-xyz'], here);
    expect(Object.keys(versions)).toEqual(['yaml', 'zod']);
    expect(versions.yaml).toMatch(/^2\.\d+\.\d+$/);
  });
});
