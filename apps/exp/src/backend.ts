import { initBackend, type BackendChoice } from '@sentencelab/tensor';

/** The backend a process runs on: its name and, where the backend reports one, the device. */
export interface StartedBackend {
  backend: string;
  /** The adapter tensor's `initBackend` describes (e.g. webgpu's vendor/architecture/device/description). */
  device?: unknown;
}

let started: { choice: BackendChoice; info: StartedBackend } | undefined;

/**
 * Initialises the config's backend once per process (every stage shares it) and returns the
 * backend actually running (`auto` resolves to native, wasm or cpu) and its device, if any.
 */
export async function startBackend(choice: BackendChoice): Promise<StartedBackend> {
  if (started && started.choice === choice) return started.info;
  const info = await initBackend(choice);
  // Read defensively: older tensor versions report no device.
  const device = (info as { device?: unknown }).device;
  started = { choice, info: { backend: info.backend, ...(device !== undefined ? { device } : {}) } };
  return started.info;
}
