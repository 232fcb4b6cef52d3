import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { backendConfigSchema, initBackend } from './backend.js';

const nativeSkip = await initBackend('native', { log: false }).then(() => undefined, (e: Error) => e.message.split('\n')[0]);

describe('initBackend', () => {
  it('auto picks the best available backend and says why in one line', async () => {
    const lines: string[] = [];
    const info = await initBackend('auto', { log: (l) => lines.push(l) });
    expect(['native', 'wasm', 'cpu']).toContain(info.backend);
    expect(tf.getBackend()).toBe(info.backend);
    expect(lines).toEqual([info.notice]);
    if (info.backend !== 'native') expect(info.notice).toMatch(/^backend: \w+ \(native unavailable: .+\)$/);
    else expect(info.notice).toMatch(/^backend: native \(auto; (avx512|avx2|generic) kernels, \d+ threads?\)$/);
  });

  // The kernels decide a trained model's last digits, so runs record them (exp's meta.json backendInfo.native).
  it.skipIf(nativeSkip !== undefined)('native reports the kernels it runs: SIMD width by the CPU, threads, GEMM', async () => {
    const { nativeInfo } = await import('@sentencelab/backend-native');
    const info = await initBackend('native', { log: false, threads: 1 });
    const addon = nativeInfo();
    expect(info.native).toEqual({ simd: addon.simd, threads: 1, blas: addon.blas });
    expect(['avx512', 'avx2', 'generic']).toContain(info.native?.simd);
    expect(info.notice).toBe(`backend: native (requested; ${addon.simd} kernels, 1 thread)`);
    expect((await initBackend('cpu', { log: false })).native).toBeUndefined();
  });

  it('explicit choices switch backends', async () => {
    expect((await initBackend('cpu', { log: false })).backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend('wasm', { log: false })).notice).toBe('backend: wasm (requested)');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('missing optional backends fail with an actionable error', async () => {
    await expect(initBackend('tensorflow', { log: false })).rejects.toThrow(/needs @tensorflow\/tfjs-node or @tensorflow\/tfjs-node-gpu/);
    await expect(initBackend('tpu' as never, { log: false })).rejects.toThrow(/unknown backend; expected one of auto, native/);
  });

  it('config schema defaults to auto and rejects unknown names', () => {
    expect(backendConfigSchema.parse({})).toEqual({ backend: 'auto' });
    expect(backendConfigSchema.safeParse({ backend: 'gpu' }).success).toBe(false);
    expect(backendConfigSchema.parse({ backend: 'webgpu', gpu: { powerPreference: 'low-power' } }).gpu).toEqual({ powerPreference: 'low-power' });
    expect(backendConfigSchema.safeParse({ backend: 'webgpu', gpu: { index: 1 } }).success).toBe(false);
    expect(backendConfigSchema.parse({ backend: 'webgpu', gpu: { matmul: 'vec128' } }).gpu).toEqual({ matmul: 'vec128' });
    const bad = backendConfigSchema.safeParse({ backend: 'webgpu', gpu: { matmul: 'fast' } });
    expect(bad.success || bad.error.issues[0]).toMatchObject({ path: ['gpu', 'matmul'], message: expect.stringContaining('"tfjs"|"tiled64"|"tiled128"|"vec64"|"vec128"') });
  });
});

describe('webgpu', () => {
  const child = fileURLToPath(new URL('./backend.child.ts', import.meta.url));
  const runChild = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', child, 'webgpu'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, ...env },
    });
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ok: boolean; error?: string };
  };

  it('without a Vulkan driver, says that no adapter was found and how to point Vulkan at one', () => {
    const r = runChild({ VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^backend "webgpu": Dawn found no WebGPU adapter.*VK_DRIVER_FILES/);
  }, 60_000);

  // The adapter-choice sequence runs in a child process (see backend.child.ts), which collects
  // garbage mid-sequence: a Dawn instance dropped under a live device crashes or hangs its process
  // (the test failed in CI that way, retries and all, before backend.ts kept every instance). A
  // child that dies or hangs before reporting fails the test; it is not retried, so that such a
  // crash, which is the bug, cannot pass on a second try.
  type Step = { backendError: boolean; message: string } | null;
  type Device = { description: string; device: string };
  type Choice = { skip?: string; ok?: false; error?: string; probeDevice?: Device; unknownFirst?: Step; info?: { backend: string; device: Device }; active?: string; firstLine?: string; product?: number[]; again?: { device?: Device }; sum?: number[]; unknownAfter?: Step; last?: { device?: Device; matmul?: string }; vec?: { matmul?: string; line?: string; product?: number[]; flag?: string; kernel?: boolean; unchanged?: string } };
  let choice: Choice | undefined;
  const adapterChoice = () => {
    if (choice === undefined) {
      const r = spawnSync(process.execPath, ['--expose-gc', '--conditions=source', '--import', 'tsx', child, 'adapter-choice'], { encoding: 'utf8', timeout: 30_000 });
      const last = r.stdout.trim().split('\n').at(-1);
      if (!last) {
        const how = r.error !== undefined ? r.error.message : `status ${r.status}, signal ${r.signal}`;
        const stderr = r.stderr.split('\n').filter((l) => !l.includes('artificially reduced')).join('\n');
        throw new Error(`adapter-choice child died or hung (${how}) before reporting: ${stderr.slice(-500)}`);
      }
      const parsed = JSON.parse(last) as Choice;
      if (parsed.ok === false) throw new Error(`adapter-choice child failed: ${parsed.error}`);
      choice = parsed;
    }
    return choice;
  };

  it('an adapter name that matches none lists the adapters Dawn sees', { timeout: 60_000 }, (ctx) => {
    // Without any adapter (no Vulkan loader or driver) Dawn has none to list: the message is the
    // "found no WebGPU adapter" one that the test above checks.
    const c = adapterChoice();
    if (c.skip !== undefined) return ctx.skip(`no WebGPU adapter here, so none to list: ${c.skip}`);
    expect(c.unknownFirst?.backendError).toBe(true);
    expect(c.unknownFirst?.message).toMatch(/Dawn could not open an adapter: no suitable backends found/);
  });

  it('where an adapter exists, reports it and computes', { timeout: 60_000 }, (ctx) => {
    const c = adapterChoice();
    if (c.skip !== undefined) return ctx.skip(`no WebGPU adapter here: ${c.skip}`);
    expect(c.info?.backend).toBe('webgpu');
    expect(c.active).toBe('webgpu');
    expect(c.info?.device).toEqual(c.probeDevice);
    expect(c.firstLine).toContain(c.info!.device.description || c.info!.device.device);
    expect(c.product).toEqual([7, 10, 15, 22]);
    // A different adapter choice re-creates the backend instead of silently keeping the old one.
    expect(c.again?.device).toBeDefined();
    expect(c.sum).toEqual([3]);
    // A failed attempt with an unknown adapter name leaves the next default request working.
    expect(c.unknownAfter?.message).toMatch(/no suitable backends found/);
    expect(c.last?.device).toEqual(c.again?.device);
    expect(c.last?.matmul).toBe('tfjs');
    // gpu.matmul sets the kernel (reported, and the one that ran); a later call without it keeps it.
    expect(c.vec).toEqual({ matmul: 'vec64', line: expect.stringMatching(/; matmul vec64\)$/), product: [7, 10, 15, 22], flag: 'vec64', kernel: true, unchanged: 'vec64' });
  });
});
