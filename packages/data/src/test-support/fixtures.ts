import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The workspace root (the committed fixtures live in its datasets/ folder). */
export const ROOT = resolve(fileURLToPath(new URL('../../../..', import.meta.url)));
export const SAMPLES = join(ROOT, 'datasets', 'samples');

const created: string[] = [];

/** Removes every folder tempDir made (call it in afterAll). */
export function removeTempDirs(): void {
  for (const d of created.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A fresh temp folder holding `files` (string or bytes contents); see removeTempDirs. */
export function tempDir(files: Record<string, string | Uint8Array> = {}): string {
  const d = mkdtempSync(join(tmpdir(), 'sentencelab-data-'));
  created.push(d);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(d, name), content);
  return d;
}
