import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sentencelab/tensor';
import { buildTrainStep } from '../src/benches/train-step.js';
const steps = Number(process.argv[2] ?? 20);
const batchSize = process.argv[3];
await initBackend('webgpu', { log: false });
if (batchSize) tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', Number(batchSize));
console.log('batch flag', tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'));
const be = tf.backend() as any;
const dev = be.device;
const counts: Record<string, number> = {};
for (const [obj, names] of [[dev, ['createBindGroup', 'createBuffer', 'createComputePipeline', 'createShaderModule', 'createCommandEncoder']], [dev.queue, ['submit', 'writeBuffer']]] as const) {
  for (const n of names) { const f = (obj as any)[n].bind(obj); (obj as any)[n] = (...a: unknown[]) => { counts[n] = (counts[n] ?? 0) + 1; return f(...a); }; }
}
const c = { vocab: 64, dModel: 64, seq: 16, batch: 2, layers: 4, heads: 8 };
const s = buildTrainStep(c);
for (let i = 0; i < 3; i++) await s.step();
const pc0 = Object.keys(be.pipelineCache).length;
for (const k in counts) counts[k] = 0;
const wall: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await s.step();
  wall.push(performance.now() - t0);
}
wall.sort((a, b) => a - b);
console.log(`median wall ${wall[wall.length >> 1]!.toFixed(1)} ms; min ${wall[0]!.toFixed(1)}; pipelines ${pc0} -> ${Object.keys(be.pipelineCache).length}`);
console.log(Object.entries(counts).map(([k, v]) => `${k} ${(v / steps).toFixed(1)}/step`).join(', '));
console.log('buffer manager', be.bufferManager.getNumUsedBuffers?.(), be.bufferManager.getNumFreeBuffers?.(), be.bufferManager.numBytesAllocated ?? '');
process.exit(0);
