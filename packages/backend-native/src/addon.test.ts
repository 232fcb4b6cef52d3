import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourcesHash } from '../scripts/sources-hash.mjs';
import { staleBuild } from './addon.js';

describe('staleBuild', () => {
  /** A package folder with C++ sources and, optionally, the hash an install recorded for its build. */
  function pkg(recorded?: (dir: string) => string): string {
    const dir = mkdtempSync(join(tmpdir(), 'native-stale-'));
    mkdirSync(join(dir, 'native', 'src'), { recursive: true });
    mkdirSync(join(dir, 'build'), { recursive: true });
    writeFileSync(join(dir, 'binding.gyp'), '{}');
    writeFileSync(join(dir, 'native', 'src', 'kernels.h'), 'enum UnaryOp : int { kExp = 0 };');
    if (recorded) writeFileSync(join(dir, 'build', 'sources.sha256'), `${recorded(dir)}\n`);
    return dir;
  }

  it('accepts an addon built from the sources beside it, or one with no recorded hash', () => {
    expect(staleBuild(pkg((dir) => sourcesHash(dir)))).toBeUndefined();
    expect(staleBuild(pkg())).toBeUndefined();
  });

  it('refuses one built before the sources changed, saying how to rebuild', () => {
    const dir = pkg((d) => sourcesHash(d));
    writeFileSync(join(dir, 'native', 'src', 'kernels.h'), 'enum UnaryOp : int { kExp = 0, kStep };');
    expect(staleBuild(dir)).toMatch(/was built from other C\+\+ sources than those in .*native\/src \(they changed since: a git pull without pnpm install\?\); rebuild it with `pnpm install`/);
  });

  it('this package: its addon (when built) matches its sources', () => {
    expect(staleBuild()).toBeUndefined();
  });
});
