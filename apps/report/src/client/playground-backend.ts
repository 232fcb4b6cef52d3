/**
 * The tfjs backend of the page: webgpu where the browser has it, else webgl, else wasm (else
 * the slow cpu reference), or the one the user picks. The wasm backend is set up as
 * `initBackend('wasm')` does in Node (single-threaded, @sentencelab/tensor's kernels), so
 * a seed gives the same text here as `pnpm exp generate` on a wasm run.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { installWasmKernels } from '@sentencelab/tensor';

export const BROWSER_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BrowserBackend = (typeof BROWSER_BACKENDS)[number];
export type BackendRequest = 'auto' | BrowserBackend;

export interface BackendChoice {
  name: BrowserBackend;
  /** Why the backends tried before it were passed over (empty when the first one worked). */
  skipped: string[];
}

let wasmReady = false;

function prepare(name: BrowserBackend): void {
  if (name !== 'wasm' || wasmReady) return;
  wasmReady = true;
  // The binaries come from the report server (/tfjs/<file>.wasm, fixed names).
  setWasmPaths(new URL('/tfjs/', location.href).href);
  // As in Node: the threaded build (which needs cross-origin isolation here) could split work
  // differently; one thread computes exactly what `pnpm exp generate` computes.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  installWasmKernels();
}

/** The WebGL renderer's name when it is a CPU emulation (SwiftShader, llvmpipe), else undefined. */
function softwareWebgl(): string | undefined {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return undefined;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return /swiftshader|llvmpipe|softpipe|software/i.test(renderer) ? renderer : undefined;
}

async function activate(name: BrowserBackend, auto: boolean): Promise<string | undefined> {
  if (name === 'webgpu' && !('gpu' in navigator)) return 'webgpu: this browser has no navigator.gpu';
  // WebGL emulated on the CPU compiles a shader per op and shape: far slower than wasm.
  const software = auto && name === 'webgl' ? softwareWebgl() : undefined;
  if (software !== undefined) return `webgl: software renderer (${software}), slower than wasm`;
  try {
    prepare(name);
    if (!(await tf.setBackend(name))) return `${name}: failed to initialise`;
    await tf.ready();
    return undefined;
  } catch (error) {
    return `${name}: ${(error as Error).message.split('\n')[0]}`;
  }
}

/** Activates the requested backend, or the first that works in order of speed for `auto`. */
export async function chooseBackend(request: BackendRequest): Promise<BackendChoice> {
  const order = request === 'auto' ? BROWSER_BACKENDS : [request];
  const skipped: string[] = [];
  for (const name of order) {
    if (tf.getBackend() === name) return { name, skipped };
    const reason = await activate(name, request === 'auto');
    if (reason === undefined) return { name, skipped };
    skipped.push(reason);
  }
  throw new Error(`no tfjs backend started: ${skipped.join('; ')}`);
}
