/**
 * Backend selection: `auto | native | wasm | cpu | webgpu | tensorflow`. Model code never names
 * a backend; apps call `initBackend(config.backend)` once before building models.
 */
import { tmpdir } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelsText, type NativeKernels } from './native-kernels.js';
import { z } from 'zod';
import './gradients.js';
import { installWasmKernels } from './wasm-kernels.js';
import { boundBufferPool } from './webgpu/buffer-pool.js';
import { installTiledMatMul, MATMUL_FLAG, matMulChoices, type MatMulChoice } from './webgpu/matmul.js';

export const backendNames = ['auto', 'native', 'wasm', 'cpu', 'webgpu', 'tensorflow'] as const;
export type BackendChoice = (typeof backendNames)[number];

export const backendConfigSchema = z.object({
  backend: z
    .enum(backendNames)
    .default('auto')
    .describe('tfjs backend: auto = native if its addon loads, else wasm, else cpu; webgpu/tensorflow need optional packages'),
  threads: z.number().int().min(1).optional().describe('worker threads for the native backend (default: its own choice)'),
  gpu: z
    .object({
      powerPreference: z.enum(['high-performance', 'low-power']).optional().describe('which adapter WebGPU prefers when there are several (default high-performance)'),
      adapter: z.string().min(1).optional().describe("Dawn adapter name, e.g. 'NVIDIA H200' (a name that matches none makes Dawn list the adapters it sees)"),
      matmul: z
        .enum(matMulChoices)
        .optional()
        .describe("float32 matmul kernel: 'tfjs' (tfjs-webgpu's own, the default) or one of this package's tilings, tiled64, tiled128, vec64, vec128 (see the tensor README)"),
    })
    .strict()
    .optional()
    .describe('webgpu backend: adapter and matmul kernel choice'),
});
export type BackendConfig = z.infer<typeof backendConfigSchema>;

/** The GPU behind the webgpu backend, as its WebGPU adapter describes itself. */
export interface GpuDevice {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a CPU emulation of a GPU (e.g. Mesa's llvmpipe/lavapipe): correct but slow. */
  software: boolean;
}

export interface BackendInfo {
  /** The tfjs backend now active: 'native' | 'wasm' | 'cpu' | 'webgpu' | 'tensorflow'. */
  backend: string;
  /** One line saying what was chosen and why, e.g. `backend: wasm (native unavailable: addon not built)`. */
  notice: string;
  /** The adapter in use (webgpu only). */
  device?: GpuDevice;
  /** The native backend's kernels (native only). */
  native?: NativeKernels;
  /** The float32 matmul kernel in use (webgpu only): `SL_WEBGPU_MATMUL`'s value. */
  matmul?: MatMulChoice;
}

export interface GpuOptions {
  powerPreference?: 'high-performance' | 'low-power';
  /** Dawn's adapter selector (a substring of the adapter's name). */
  adapter?: string;
  /** Sets `SL_WEBGPU_MATMUL` (the float32 matmul kernel) once the backend is up; unset leaves the flag as it is. */
  matmul?: MatMulChoice;
}

export interface InitBackendOptions {
  threads?: number;
  /** Adapter choice for `webgpu`. */
  gpu?: GpuOptions;
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

type Attempt = { ok: true; device?: GpuDevice; native?: NativeKernels } | { ok: false; reason: string };

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
  nativeInfo(): { simd?: string; threads?: number; blas?: 'builtin' | 'openblas' };
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
  const active = await activate('native');
  if (!active.ok) return active;
  const { simd = 'unknown', threads: inUse = 0, blas = 'builtin' } = mod.nativeInfo();
  return { ok: true, native: { simd, threads: inUse, blas } };
}

/** `; avx512 kernels, 2 threads`: what the notice says of the native backend. */
function nativeNote(n: NativeKernels | undefined): string {
  return n === undefined ? '' : `; ${nativeKernelsText(n)}`;
}

interface Dawn {
  create(flags: string[]): { requestAdapter(o?: { powerPreference?: string }): Promise<WebgpuAdapter | null> };
  globals: Record<string, unknown>;
}
interface WebgpuAdapter {
  info: { vendor: string; architecture: string; device: string; description: string };
  features: Set<string>;
  limits: Record<string, number>;
  requestDevice(d: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<unknown>;
}

/** The webgpu backend's options at its last initialisation (a change re-creates it). */
let webgpuKey: string | undefined;
/**
 * Every Dawn instance this process created, with the adapter name it was created for; the last
 * is the one in `navigator.gpu`. Earlier ones stay referenced for the life of the process: a
 * backend made from one of their adapters may still be registered and computing (an adapter
 * choice that failed, or one with the same options, keeps it), and a garbage-collected instance
 * is destroyed under that backend's device: a native crash or a hang at its next GPU work.
 */
const dawnInstances: { adapter: string | undefined; gpu: ReturnType<Dawn['create']> }[] = [];

async function tryWebgpu(gpu: GpuOptions): Promise<Attempt> {
  let dawn: Dawn;
  try {
    const specifier = 'webgpu';
    dawn = (await import(/* @vite-ignore */ specifier)) as Dawn;
  } catch (e) {
    return { ok: false, reason: `needs the optional packages "webgpu" (Dawn for Node) and "@tensorflow/tfjs-backend-webgpu": pnpm add webgpu @tensorflow/tfjs-backend-webgpu@4.22.0 (${reasonOf(e)})` };
  }
  const key = JSON.stringify({ adapter: gpu.adapter ?? null, powerPreference: gpu.powerPreference ?? 'high-performance' });
  // A Dawn instance is bound to its adapter selector: a new one for another name (also after a
  // failed attempt with a name that matched nothing).
  let current = dawnInstances.at(-1);
  if (current === undefined || current.adapter !== gpu.adapter) {
    // Mesa's Vulkan loader complains on every start without it (headless servers).
    process.env['XDG_RUNTIME_DIR'] ??= tmpdir();
    Object.assign(globalThis, dawn.globals);
    // Exact GPU timestamps: Dawn rounds them to ~65 us by default (a browser's timing-attack
    // guard), too coarse for the kernel times tf.profile reports (a GEMM can take 0.3 ms).
    const flags = ['disable-dawn-features=timestamp_quantization', ...(gpu.adapter === undefined ? [] : [`adapter=${gpu.adapter}`])];
    current = { adapter: gpu.adapter, gpu: dawn.create(flags) };
    dawnInstances.push(current);
    // Node 20's navigator is a read-only getter: define instead of assigning.
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: current.gpu }, configurable: true, writable: true });
  }
  const instance = current.gpu;
  let adapter: WebgpuAdapter | null;
  try {
    adapter = await instance.requestAdapter({ powerPreference: gpu.powerPreference ?? 'high-performance' });
  } catch (e) {
    return { ok: false, reason: `Dawn could not open an adapter: ${e instanceof Error ? e.message.trim() : String(e)}` };
  }
  if (adapter === null) {
    return {
      ok: false,
      reason:
        'Dawn found no WebGPU adapter. On Linux it needs the Vulkan loader (libvulkan1) and a GPU driver\'s Vulkan ICD ' +
        '(NVIDIA containers: export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json); ' +
        '`vulkaninfo --summary` shows what Vulkan sees',
    };
  }
  let mod: { WebGPUBackend: new (device: unknown, info: unknown) => tf.KernelBackend };
  try {
    const specifier = '@tensorflow/tfjs-backend-webgpu';
    mod = (await import(/* @vite-ignore */ specifier)) as typeof mod;
  } catch (e) {
    return { ok: false, reason: `needs the optional package "@tensorflow/tfjs-backend-webgpu" (pnpm add @tensorflow/tfjs-backend-webgpu@4.22.0): ${reasonOf(e)}` };
  }
  // Its BatchMatMul kernel is registered now: wrap it so SL_WEBGPU_MATMUL can select the tiled one.
  installTiledMatMul();
  if (key !== webgpuKey) {
    // Replace the package's own factory (it asks for its adapter itself and fails obscurely
    // when there is none) with one that uses the adapter chosen above.
    if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
    const chosen = adapter;
    tf.registerBackend('webgpu', async () => {
      // The adapter's own limits (tfjs asks for these; storage buffers per stage lets fused kernels bind more).
      const limits = chosen.limits;
      const device = await chosen.requestDevice({
        requiredFeatures: chosen.features.has('timestamp-query') ? ['timestamp-query'] : [],
        requiredLimits: Object.fromEntries(
          ['maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBuffersPerShaderStage'].map((k) => [k, limits[k]!]),
        ),
      });
      const backend = new mod.WebGPUBackend(device, chosen.info);
      // tfjs keeps a free buffer of every size it ever made: bounded, or varying batch shapes grow GPU memory without end.
      boundBufferPool(backend);
      return backend;
    });
    webgpuKey = key;
  }
  const r = await activate('webgpu');
  if (!r.ok) return r;
  if (gpu.matmul !== undefined) tf.env().set(MATMUL_FLAG, gpu.matmul);
  const { vendor, architecture, device, description } = adapter.info;
  return { ok: true, device: { vendor, architecture, device, description, software: architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(description) } };
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
    webgpu: () => tryWebgpu(options.gpu ?? {}),
    tensorflow: tryTensorflow,
  };
  let info: BackendInfo;
  if (choice === 'auto') {
    const skipped: string[] = [];
    let chosen: { name: string; native?: NativeKernels | undefined } | undefined;
    for (const name of ['native', 'wasm', 'cpu'] as const) {
      const r = await attempts[name]();
      if (r.ok) {
        chosen = { name, native: r.native };
        break;
      }
      skipped.push(`${name} unavailable: ${r.reason}`);
    }
    if (chosen === undefined) throw new BackendError('auto', `no backend could start (${skipped.join('; ')})`);
    const why = skipped.length > 0 ? skipped.join('; ') : 'auto';
    info = { backend: chosen.name, notice: `backend: ${chosen.name} (${why}${nativeNote(chosen.native)})`, ...(chosen.native ? { native: chosen.native } : {}) };
  } else {
    const r = await attempts[choice]();
    if (!r.ok) throw new BackendError(choice, r.reason);
    const d = r.device;
    const on = d === undefined ? '' : `; ${d.description || d.device || d.vendor}${d.software ? ': a software (CPU-emulated) adapter, correct but slow' : ''}`;
    const matmul = choice === 'webgpu' ? (tf.env().get(MATMUL_FLAG) as MatMulChoice) : undefined;
    const kernel = matmul === undefined || matmul === 'tfjs' ? '' : `; matmul ${matmul}`;
    info = {
      backend: choice,
      notice: `backend: ${choice} (requested${on}${kernel}${nativeNote(r.native)})`,
      ...(d === undefined ? {} : { device: d }),
      ...(matmul === undefined ? {} : { matmul }),
      ...(r.native ? { native: r.native } : {}),
    };
  }
  if (log !== false) log(info.notice);
  return info;
}
