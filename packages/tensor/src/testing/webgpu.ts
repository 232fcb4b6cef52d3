/**
 * Whether this machine has a WebGPU adapter (a GPU, or a software one such as Mesa's lavapipe),
 * so that tests can run on `webgpu` where possible and say why they are skipped where not.
 */
import { initBackend, type GpuDevice } from '../backend.js';

export type WebgpuAvailability = { ok: true; device: GpuDevice } | { ok: false; reason: string };

let probed: Promise<WebgpuAvailability> | undefined;

/** Probes once per process (initialises webgpu, then switches back to `cpu`). */
export function webgpuAvailability(): Promise<WebgpuAvailability> {
  probed ??= (async (): Promise<WebgpuAvailability> => {
    try {
      const info = await initBackend('webgpu', { log: false });
      return { ok: true, device: info.device! };
    } catch (e) {
      return { ok: false, reason: (e as Error).message.split('\n')[0]! };
    } finally {
      await initBackend('cpu', { log: false });
    }
  })();
  return probed;
}
