import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import { runCommandAction } from './run.js';

const repoRoot = join(__dirname, '..', '..', '..', '..');
const paper = join(repoRoot, 'configs', 'paper');

/** The `pnpm exp run configs/paper/...` commands of configs/paper/README.md (table and code blocks): file and overrides (shell single quotes honoured). */
function readmeCommands(): { file: string; overrides: string[] }[] {
  const readme = readFileSync(join(paper, 'README.md'), 'utf8');
  return [...readme.matchAll(/pnpm exp run (configs\/paper\/[\w.-]+\.yaml)([^`\n]*)/g)].map((m) => ({
    file: m[1]!,
    overrides: [...m[2]!.replace(/\s#.*$/, '').matchAll(/'([^']*)'|(\S+)/g)].map((a) => a[1] ?? a[2]!),
  }));
}

describe('configs/paper', () => {
  const commands = readmeCommands();

  test('the README gives one run command for every experiment config', () => {
    const experiments = readdirSync(paper).filter((f) => f.endsWith('.yaml') && f !== 'base.yaml').sort();
    expect(experiments).toEqual(['lcm-vae-diffusion.yaml', 'lcm-vae.yaml', 'lcm.yaml', 'sllm-vs-token-4x.yaml', 'sllm-vs-token-calm.yaml', 'sllm-vs-token-gpu.yaml', 'sllm-vs-token-noise.yaml', 'sllm-vs-token-vae.yaml', 'sllm-vs-token.yaml', 'svae-size.yaml', 'units.yaml']);
    for (const e of experiments) expect(commands.map((c) => c.file)).toContain(`configs/paper/${e}`);
  });

  test('every README command validates with --dry-run (every sweep point, every stage input)', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      for (const c of commands) {
        const code = await runCommandAction(join(repoRoot, c.file), c.overrides, { dryRun: true, parallel: 1, cacheDir: mkdtempSync(join(tmpdir(), 'exp-paper-')) });
        expect(code, `${c.file} ${c.overrides.join(' ')}`).toBe(0);
      }
      expect(log.mock.calls.filter((call) => String(call[0]).startsWith('# point ')).length).toBeGreaterThanOrEqual(commands.length);
    } finally {
      log.mockRestore();
    }
  }, 60_000);
});
