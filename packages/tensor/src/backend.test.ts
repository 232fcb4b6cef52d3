import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendError, backendConfigSchema, initBackend } from './backend.js';

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
    await expect(initBackend('webgpu', { log: false })).rejects.toThrow(BackendError);
    await expect(initBackend('tpu' as never, { log: false })).rejects.toThrow(/unknown backend; expected one of auto, native/);
  });

  it('config schema defaults to auto and rejects unknown names', () => {
    expect(backendConfigSchema.parse({})).toEqual({ backend: 'auto' });
    expect(backendConfigSchema.safeParse({ backend: 'gpu' }).success).toBe(false);
  });
});
