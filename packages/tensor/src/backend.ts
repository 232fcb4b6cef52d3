/**
 * Backend selection: `auto | native | wasm | cpu | webgpu | tensorflow`. Model code never names
 * a backend; apps call `initBackend(config.backend)` once before building models.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import './gradients.js';
import { installWasmKernels } from './wasm-kernels.js';

export const backendNames = ['auto', 'native', 'wasm', 'cpu', 'webgpu', 'tensorflow'] as const;
export type BackendChoice = (typeof backendNames)[number];

export const backendConfigSchema = z.object({
  backend: z
    .enum(backendNames)
    .default('auto')
    .describe('tfjs backend: auto = native if its addon loads, else wasm, else cpu; webgpu/tensorflow need optional packages'),
  threads: z.number().int().min(1).optional().describe('worker threads for the native backend (default: its own choice)'),
});
export type BackendConfig = z.infer<typeof backendConfigSchema>;

export interface BackendInfo {
  /** The tfjs backend now active: 'native' | 'wasm' | 'cpu' | 'webgpu' | 'tensorflow'. */
  backend: string;
  /** One line saying what was chosen and why, e.g. `backend: wasm (native unavailable: addon not built)`. */
  notice: string;
}

export interface InitBackendOptions {
  threads?: number;
  /** Where the notice goes; `false` keeps quiet. Default: console.error (stdout stays clean for JSON). */
  log?: ((line: string) => void) | false;
}

export class BackendError extends Error {
  constructor(
    readonly backend: string,
    message: string,
  ) {
    super(`backend "${backend}": ${message}`);
    this.name = 'BackendError';
  }
}

type Attempt = { ok: true } | { ok: false; reason: string };

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

async function activate(name: string): Promise<Attempt> {
  try {
    if (!(await tf.setBackend(name))) return { ok: false, reason: `tf.setBackend('${name}') failed to initialise` };
    await tf.ready();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: reasonOf(e) };
  }
}

async function tryCpu(): Promise<Attempt> {
  await import('@tensorflow/tfjs-backend-cpu');
  return activate('cpu');
}

async function tryWasm(): Promise<Attempt> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    // The threaded build needs a blob-URL worker that Node cannot start; force the single-threaded one.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    installWasmKernels();
  } catch (e) {
    return { ok: false, reason: `could not load @tensorflow/tfjs-backend-wasm: ${reasonOf(e)}` };
  }
  return activate('wasm');
}

interface NativeModule {
  registerNativeBackend(options?: { threads?: number }): Promise<Attempt>;
}

async function tryNative(threads: number | undefined): Promise<Attempt> {
  let mod: NativeModule;
  try {
    const specifier = '@sentencelab/backend-native';
    mod = (await import(/* @vite-ignore */ specifier)) as NativeModule;
  } catch (e) {
    return { ok: false, reason: `@sentencelab/backend-native not loadable: ${reasonOf(e)}` };
  }
  try {
    // The native backend overrides a subset of kernels over the cpu backend's.
    await import('@tensorflow/tfjs-backend-cpu');
    const r = await mod.registerNativeBackend(threads === undefined ? {} : { threads });
    if (!r.ok) return r;
  } catch (e) {
    return { ok: false, reason: reasonOf(e) };
  }
  return activate('native');
}

async function tryWebgpu(): Promise<Attempt> {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu === undefined) {
    let dawn: { create(flags: string[]): unknown; globals: Record<string, unknown> };
    try {
      const specifier = 'webgpu';
      dawn = (await import(/* @vite-ignore */ specifier)) as typeof dawn;
    } catch (e) {
      return { ok: false, reason: `needs the optional packages "webgpu" (Dawn for Node) and "@tensorflow/tfjs-backend-webgpu": pnpm add webgpu @tensorflow/tfjs-backend-webgpu@4.22.0 (${reasonOf(e)})` };
    }
    Object.assign(globalThis, dawn.globals);
    // Node 20 has a read-only navigator getter on some versions; define instead of assigning.
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.create([]) }, configurable: true, writable: true });
  }
  try {
    const specifier = '@tensorflow/tfjs-backend-webgpu';
    await import(/* @vite-ignore */ specifier);
  } catch (e) {
    return { ok: false, reason: `needs the optional package "@tensorflow/tfjs-backend-webgpu" (pnpm add @tensorflow/tfjs-backend-webgpu@4.22.0): ${reasonOf(e)}` };
  }
  return activate('webgpu');
}

async function tryTensorflow(): Promise<Attempt> {
  const reasons: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(/* @vite-ignore */ pkg);
      return activate('tensorflow');
    } catch (e) {
      reasons.push(`${pkg}: ${reasonOf(e)}`);
    }
  }
  return {
    ok: false,
    reason: `needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu 4.22 (their install downloads libtensorflow, so install them yourself where that is allowed): ${reasons.join('; ')}`,
  };
}

/**
 * Selects and initialises a backend. `auto` tries native, then wasm, then cpu; explicit choices
 * fail with a {@link BackendError} saying what is missing.
 */
export async function initBackend(choice: BackendChoice = 'auto', options: InitBackendOptions = {}): Promise<BackendInfo> {
  if (!backendNames.includes(choice)) {
    throw new BackendError(String(choice), `unknown backend; expected one of ${backendNames.join(', ')}`);
  }
  // Silences tfjs's "install tfjs-node" banner and other console noise (it only gates logging).
  tf.env().set('PROD', true);
  const log = options.log === undefined ? (l: string) => console.error(l) : options.log;
  const attempts: Record<Exclude<BackendChoice, 'auto'>, () => Promise<Attempt>> = {
    native: () => tryNative(options.threads),
    wasm: tryWasm,
    cpu: tryCpu,
    webgpu: tryWebgpu,
    tensorflow: tryTensorflow,
  };
  let info: BackendInfo;
  if (choice === 'auto') {
    const skipped: string[] = [];
    let chosen: string | undefined;
    for (const name of ['native', 'wasm', 'cpu'] as const) {
      const r = await attempts[name]();
      if (r.ok) {
        chosen = name;
        break;
      }
      skipped.push(`${name} unavailable: ${r.reason}`);
    }
    if (chosen === undefined) throw new BackendError('auto', `no backend could start (${skipped.join('; ')})`);
    info = { backend: chosen, notice: `backend: ${chosen}${skipped.length > 0 ? ` (${skipped.join('; ')})` : ' (auto)'}` };
  } else {
    const r = await attempts[choice]();
    if (!r.ok) throw new BackendError(choice, r.reason);
    info = { backend: choice, notice: `backend: ${choice} (requested)` };
  }
  if (log !== false) log(info.notice);
  return info;
}
