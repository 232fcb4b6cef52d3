import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';

/**
 * The Chromium the browser tests drive: the one that ships inside the npm package
 * `@sparticuz/chromium` (brotli files: the binary, SwiftShader, fonts, and the NSS/expat libraries
 * it links against), so `pnpm test` needs no system browser. Unpacked once per version into
 * `$TMPDIR/sentencelab-chromium-<version>`; the bundled libraries go on the browser's
 * LD_LIBRARY_PATH (its own env only), so it runs on a machine without libnss3.
 */
export interface BundledChromium {
  executablePath: string;
  /** The environment to launch it with (LD_LIBRARY_PATH, FONTCONFIG_FILE added). */
  env: Record<string, string>;
}

const require = createRequire(import.meta.url);

export function bundledChromium(): BundledChromium {
  // The package exports only its entry (build/cjs/index.cjs); its root is two folders up.
  const root = join(dirname(require.resolve('@sparticuz/chromium')), '..', '..');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const bin = join(root, 'bin');
  const dir = join(tmpdir(), `sentencelab-chromium-${version}`);
  if (!existsSync(join(dir, 'chromium'))) unpack(bin, dir);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.LD_LIBRARY_PATH = [join(dir, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  env.FONTCONFIG_FILE = join(dir, 'fonts.conf');
  return { executablePath: join(dir, 'chromium'), env };
}

/** Unpacks into a fresh sibling folder, then renames it into place: a concurrent run never sees half a browser. */
function unpack(bin: string, dir: string): void {
  const staging = mkdtempSync(`${dir}.partial-`);
  try {
    writeFileSync(join(staging, 'chromium'), brotliDecompressSync(readFileSync(join(bin, 'chromium.br'))), { mode: 0o755 });
    for (const archive of ['swiftshader.tar.br', 'fonts.tar.br', 'al2023.tar.br']) {
      const tar = spawnSync('tar', ['-x', '-C', staging], { input: brotliDecompressSync(readFileSync(join(bin, archive))) });
      if (tar.status !== 0) throw new Error(`unpacking ${join(bin, archive)}: tar exited ${tar.status}: ${String(tar.stderr)}`);
    }
    mkdirSync(join(staging, 'fonts-cache'), { recursive: true });
    writeFileSync(
      join(staging, 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${join(dir, 'fonts')}</dir>\n  <cachedir>${join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
    );
    renameSync(staging, dir);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    if (existsSync(join(dir, 'chromium'))) return; // another run unpacked it first
    throw e;
  }
}
