import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { buildTrainStep } from '../src/benches/train-step.js';
const steps = Number(process.argv[2] ?? 20);
await initBackend('webgpu', { log: false });
const c = { vocab: 64, dModel: 64, seq: 16, batch: 2, layers: 4, heads: 8 };
const s = buildTrainStep(c);
for (let i = 0; i < 3; i++) await s.step();
const wall: number[] = [], cpu: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now(); const c0 = process.cpuUsage();
  await s.step();
  const c1 = process.cpuUsage(c0);
  wall.push(performance.now() - t0); cpu.push((c1.user + c1.system) / 1000);
}
wall.sort((a, b) => a - b); cpu.sort((a, b) => a - b);
console.log(`median wall ${wall[wall.length >> 1]!.toFixed(1)} ms, cpu ${cpu[cpu.length >> 1]!.toFixed(1)} ms; min wall ${wall[0]!.toFixed(1)}`);
process.exit(0);
