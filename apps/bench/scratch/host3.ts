import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { buildTrainStep, sizes } from '../src/benches/train-step.js';
const steps = Number(process.argv[2] ?? 20);
const which = process.argv[3] ?? 'micro';
await initBackend('webgpu', { log: false });
let tData = 0;
const orig = tf.Tensor.prototype.data;
tf.Tensor.prototype.data = function (this: tf.Tensor) { tData = performance.now(); return orig.call(this); } as typeof orig;
const c = which === 'micro' ? { vocab: 64, dModel: 64, seq: 16, batch: 2, layers: 4, heads: 8 } : (sizes as any)[which];
const s = buildTrainStep(c);
for (let i = 0; i < 2; i++) await s.step();
const host: number[] = [], wall: number[] = [], cpu: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now(); const c0 = process.cpuUsage();
  await s.step();
  const c1 = process.cpuUsage(c0);
  wall.push(performance.now() - t0); host.push(tData - t0); cpu.push((c1.user + c1.system) / 1000);
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!.toFixed(1);
console.log(`${which}: median wall ${med(wall)} ms, host (until the loss read) ${med(host)} ms, process cpu ${med(cpu)} ms`);
process.exit(0);
