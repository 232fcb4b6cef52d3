import { initBackend, type BackendChoice } from '@sentencelab/tensor';

let started: { choice: BackendChoice; backend: string } | undefined;

/**
 * Initialises the config's backend once per process (every stage shares it) and returns the
 * backend actually running (`auto` resolves to native, wasm or cpu).
 */
export async function startBackend(choice: BackendChoice): Promise<string> {
  if (started && started.choice === choice) return started.backend;
  const info = await initBackend(choice);
  started = { choice, backend: info.backend };
  return info.backend;
}
