/**
 * The GPU check (scripts/gpu-check/run.sh) runs configs with the overrides in
 * scripts/gpu-check/overrides/*.txt, on a server where a wrong one costs device time: each list
 * must validate against its config here (dry run: every key known, every stage input there).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, vi } from 'vitest';
import { runCommandAction } from './run.js';

const repoRoot = join(__dirname, '..', '..', '..', '..');
const dir = join(repoRoot, 'scripts', 'gpu-check', 'overrides');

/** Which config each list is for, and the overrides run.sh puts before it. */
const uses: Record<string, { config: string; fixed: string[] }> = {
  'quickstart.txt': { config: 'configs/quickstart.yaml', fixed: ['backend=webgpu'] },
  'quickstart-quick.txt': { config: 'configs/quickstart.yaml', fixed: ['backend=webgpu'] },
  'gpu-config-quick.txt': { config: 'configs/paper/sllm-vs-token-gpu.yaml', fixed: [] },
};

test('every override list of the GPU check validates against its config', async () => {
  expect(readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()).toEqual(Object.keys(uses).sort());
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    for (const [file, { config, fixed }] of Object.entries(uses)) {
      // run.sh's reading: one per line, blank lines and # comments skipped.
      const overrides = readFileSync(join(dir, file), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
      expect(overrides.length, file).toBeGreaterThan(0);
      const cacheDir = mkdtempSync(join(tmpdir(), 'gpu-check-overrides-'));
      const code = await runCommandAction(join(repoRoot, config), [...fixed, `data.output.cacheDir=${cacheDir}`, ...overrides], { dryRun: true, parallel: 1, cacheDir });
      expect(code, `${file}: ${error.mock.calls.map((c) => String(c[0])).join('\n')}`).toBe(0);
    }
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}, 60_000);
