import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The workspace root (the committed fixtures live in its datasets/ folder). */
export const ROOT = resolve(fileURLToPath(new URL('../../../..', import.meta.url)));
export const SAMPLES = join(ROOT, 'datasets', 'samples');

/** A fresh temp folder holding `files` (string or bytes contents). */
export function tempDir(files: Record<string, string | Uint8Array> = {}): string {
  const d = mkdtempSync(join(tmpdir(), 'sentencelab-data-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(d, name), content);
  return d;
}
