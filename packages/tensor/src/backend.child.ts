/**
 * Child process for backend.test.ts: `webgpu` (or any backend name) initialises that backend and
 * prints the outcome as JSON; `adapter-choice` runs the webgpu adapter-choice sequence and prints
 * what each step saw. The sequence runs here, not in the test worker, because a Dawn instance
 * collected under a live device (the bug it guards against) crashes or hangs the whole process.
 * Run with `--expose-gc` so that the sequence can collect garbage where that bug would bite.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError, initBackend, type BackendChoice } from './backend.js';
import { webgpuAvailability } from './testing/webgpu.js';

const errorOf = async (p: Promise<unknown>): Promise<{ backendError: boolean; message: string } | null> =>
  p.then(
    () => null,
    (e: unknown) => ({ backendError: e instanceof BackendError, message: e instanceof Error ? e.message : String(e) }),
  );

/** A full collection, twice around a turn of the event loop (finalizers run in between). */
async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run this child with node --expose-gc');
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gc();
}

async function adapterChoice(): Promise<unknown> {
  const probe = await webgpuAvailability();
  if (!probe.ok) return { skip: probe.reason };
  const unknownFirst = await errorOf(initBackend('webgpu', { log: false, gpu: { adapter: 'No Such GPU 9000' } }));
  const lines: string[] = [];
  const info = await initBackend('webgpu', { log: (l) => lines.push(l), gpu: { powerPreference: 'high-performance' } });
  const active = tf.getBackend();
  // The probe's Dawn instance is no longer navigator.gpu (two adapter choices created others),
  // yet the backend made from its adapter is the one about to compute (same options). Collecting
  // garbage now crashed or hung this process at the matmul below every time until backend.ts
  // kept every instance it creates; without a forced collection it did so about half the time.
  await collectGarbage();
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const product = Array.from(await tf.matMul(x, x).data());
  // A different adapter choice re-creates the backend instead of silently keeping the old one.
  const again = await initBackend('webgpu', { log: false, gpu: { powerPreference: 'low-power' } });
  const sum = Array.from(await tf.add(tf.tensor1d([1]), tf.tensor1d([2])).data());
  // A failed attempt with an unknown adapter name leaves the next default request working.
  const unknownAfter = await errorOf(initBackend('webgpu', { log: false, gpu: { adapter: 'No Such GPU 9000' } }));
  const last = await initBackend('webgpu', { log: false, gpu: { powerPreference: 'low-power' } });
  // The matmul kernel chosen with the adapter: the flag is set, reported, and that kernel computes.
  const vecLines: string[] = [];
  const vec = await initBackend('webgpu', { log: (l) => vecLines.push(l), gpu: { powerPreference: 'low-power', matmul: 'vec64' } });
  const y = tf.tensor2d([[1, 2], [3, 4]]);
  const vecProduct = Array.from(await tf.matMul(y, y).data());
  const vecFlag = tf.env().get('SL_WEBGPU_MATMUL');
  const vecKernel = Object.keys((tf.backend() as unknown as { pipelineCache: Record<string, unknown> }).pipelineCache).some((k) => k.startsWith('slMatMulV4_64_'));
  const unchanged = (await initBackend('webgpu', { log: false, gpu: { powerPreference: 'low-power' } })).matmul;
  return {
    probeDevice: probe.device, unknownFirst, info, active, firstLine: lines[0], product, again, sum, unknownAfter, last,
    vec: { matmul: vec.matmul, line: vecLines[0], product: vecProduct, flag: vecFlag, kernel: vecKernel, unchanged },
  };
}

try {
  const mode = process.argv[2]!;
  if (mode === 'adapter-choice') {
    console.log(JSON.stringify(await adapterChoice()));
  } else {
    const info = await initBackend(mode as BackendChoice, { log: false });
    console.log(JSON.stringify({ ok: true, info }));
  }
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: (e as Error).message }));
}
