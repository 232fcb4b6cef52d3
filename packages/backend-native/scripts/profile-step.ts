// Profiles the tiny GPT training step (src/tiny-gpt.ts) on a backend and prints ms/step plus
// the kernels that take the time:
//   node --conditions=source --import tsx scripts/profile-step.ts [native|cpu|wasm] [steps]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../../tensor/src/gradients.js';

import { registerNativeBackend } from '../src/index.js';
import { createTinyGpt } from '../src/tiny-gpt.js';

const backend = process.argv[2] ?? 'native';
const steps = Number(process.argv[3] ?? 5);
if (backend === 'native') {
  const r = await registerNativeBackend();
  if (!r.ok) throw new Error(r.reason);
}
if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
await tf.setBackend(backend);
const model = createTinyGpt();
model.step(); // warm-up
const times: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  model.step();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(`${backend}: ${times[times.length >> 1]!.toFixed(1)} ms/step (median of ${steps}; min ${times[0]!.toFixed(1)})`);
const profile = await tf.profile(() => {
  model.step();
});
const byKernel = new Map<string, { ms: number; n: number }>();
for (const k of profile.kernels) {
  const e = byKernel.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  e.n += 1;
  byKernel.set(k.name, e);
}
const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20);
console.log(`profiled step: ${profile.kernels.length} kernels`);
for (const [name, e] of rows) console.log(`${name.padEnd(22)} ${e.ms.toFixed(1).padStart(8)} ms  x${e.n}`);
model.dispose();
