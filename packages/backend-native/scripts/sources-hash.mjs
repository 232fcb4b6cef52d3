// The hash of everything the native addon is built from (binding.gyp and native/src): written
// next to the addon by build-addon.mjs, compared with the sources at load (src/addon.ts), so
// that an addon built from other sources (a `git pull` without `pnpm install`) is not used.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** sha256 (hex) of binding.gyp and every file of native/src under `pkgDir`, names included. */
export function sourcesHash(pkgDir) {
  const h = createHash('sha256');
  const srcDir = join(pkgDir, 'native', 'src');
  for (const f of ['binding.gyp', ...readdirSync(srcDir).sort().map((n) => join('native', 'src', n))]) {
    h.update(f).update(readFileSync(join(pkgDir, f)));
  }
  return h.digest('hex');
}
