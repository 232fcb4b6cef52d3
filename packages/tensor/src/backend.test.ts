import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendError, backendConfigSchema, initBackend } from './backend.js';
import { webgpuAvailability } from './testing/webgpu.js';

describe('initBackend', () => {
  it('auto picks the best available backend and says why in one line', async () => {
    const lines: string[] = [];
    const info = await initBackend('auto', { log: (l) => lines.push(l) });
    expect(['native', 'wasm', 'cpu']).toContain(info.backend);
    expect(tf.getBackend()).toBe(info.backend);
    expect(lines).toEqual([info.notice]);
    if (info.backend !== 'native') expect(info.notice).toMatch(/^backend: \w+ \(native unavailable: .+\)$/);
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
  });
});

describe('webgpu', () => {
  const child = fileURLToPath(new URL('./backend.child.ts', import.meta.url));
  const runChild = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', child, 'webgpu'], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ok: boolean; error?: string };
  };

  it('without a Vulkan driver, says that no adapter was found and how to point Vulkan at one', () => {
    const r = runChild({ VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^backend "webgpu": Dawn found no WebGPU adapter.*VK_DRIVER_FILES/);
  }, 60_000);

  it('an adapter name that matches none lists the adapters Dawn sees', async (ctx) => {
    // Without any adapter (no Vulkan loader or driver) Dawn has none to list: the message is the
    // "found no WebGPU adapter" one that the test above checks.
    const probe = await webgpuAvailability();
    if (!probe.ok) return ctx.skip(`no WebGPU adapter here, so none to list: ${probe.reason}`);
    const err = await initBackend('webgpu', { log: false, gpu: { adapter: 'No Such GPU 9000' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/Dawn could not open an adapter: no suitable backends found/);
  });

  it('where an adapter exists, reports it and computes', async (ctx) => {
    const probe = await webgpuAvailability();
    if (!probe.ok) return ctx.skip(`no WebGPU adapter here: ${probe.reason}`);
    const lines: string[] = [];
    const info = await initBackend('webgpu', { log: (l) => lines.push(l), gpu: { powerPreference: 'high-performance' } });
    expect(info.backend).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(info.device).toEqual(probe.device);
    expect(lines[0]).toContain(info.device!.description || info.device!.device);
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    expect(Array.from(await tf.matMul(x, x).data())).toEqual([7, 10, 15, 22]);
    // A different adapter choice re-creates the backend instead of silently keeping the old one.
    const again = await initBackend('webgpu', { log: false, gpu: { powerPreference: 'low-power' } });
    expect(again.device).toBeDefined();
    expect(Array.from(await tf.add(tf.tensor1d([1]), tf.tensor1d([2])).data())).toEqual([3]);
    // A failed attempt with an unknown adapter name leaves the next default request working.
    await expect(initBackend('webgpu', { log: false, gpu: { adapter: 'No Such GPU 9000' } })).rejects.toThrow(/no suitable backends found/);
    expect((await initBackend('webgpu', { log: false, gpu: { powerPreference: 'low-power' } })).device).toEqual(again.device);
    await initBackend('cpu', { log: false });
  });
});
