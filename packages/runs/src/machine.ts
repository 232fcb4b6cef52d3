import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { GitInfo, MachineInfo } from './format.js';

export function collectMachineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() || 'unknown',
    cores: Math.max(1, list.length),
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
  };
}

/** HEAD sha and whether tracked files have uncommitted changes; `sha: null` outside git. */
export function collectGitInfo(cwd: string = process.cwd()): GitInfo {
  const git = (args: string[]) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const sha = git(['rev-parse', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--untracked-files=no']).length > 0;
    return { sha, dirty };
  } catch {
    return { sha: null, dirty: false };
  }
}

/**
 * Versions of the named packages as installed from `fromDir` (searching node_modules
 * upwards, like Node does); packages that cannot be found are left out.
 */
export function collectPackageVersions(names: readonly string[], fromDir: string = process.cwd()): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    let dir = resolve(fromDir);
    for (;;) {
      const file = join(dir, 'node_modules', name, 'package.json');
      if (existsSync(file)) {
        const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
        if (typeof version === 'string') out[name] = version;
        break;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return out;
}
