import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import type { BenchModule } from './result.js';

const benchDir = fileURLToPath(new URL('./benches/', import.meta.url));
const names = readdirSync(benchDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => f.slice(0, -3));

test('every benchmark has a usage text naming its command and its options', async () => {
  expect(names).toContain('train-step');
  for (const name of names) {
    const mod = (await import(`./benches/${name}.ts`)) as BenchModule;
    expect(mod.usage, name).toMatch(new RegExp(`^pnpm bench ${name} \\[options\\]\\n`));
    expect(mod.usage, name).toMatch(/\n {2}--[a-z-]+/);
  }
}, 60_000);

test('pnpm bench <name> --help prints the usage and runs nothing', () => {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', cli, 'train-step', '--size', 'large', '--help'], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^pnpm bench train-step \[options\]\n/);
  expect(r.stdout).toContain('--python PATH');
  expect(r.stdout).not.toContain('{"bench"');
}, 60_000);

test('a bad option is one line naming it, exit status 1, no stack', () => {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', cli, 'train-step', '--backends', 'native', '--webgpu-flags', 'WEBGPU_CPU_FORWARD=false', '--no-torch'], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status).toBe(1);
  expect(r.stderr.trim()).toBe('bench: train-step: --webgpu-flags needs webgpu among --backends');
}, 60_000);
