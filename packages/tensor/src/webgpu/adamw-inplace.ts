/**
 * AdamW in one dispatch per parameter, updating p, m and v in place. The program path
 * (adamw.ts) needs three dispatches because a tfjs-webgpu program writes exactly one new
 * tensor; this one binds the three buffers read-write and records its dispatch into the
 * backend's command stream the way `runWebGPUProgram` does (same encoder, same pass, same
 * submit batching), through members of the 4.22 backend checked at run time.
 *
 * In place is only safe when nothing else sees those buffers: `canUpdateInPlace` requires each
 * buffer to belong to exactly one tensor (a clone, reshape or saved copy shares it and bumps
 * the count) and then the CPU-side copy a read may have cached is dropped.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AdamWScalars } from './adamw.js';
import type { UniformValue } from './program.js';

interface TensorData {
  refCount: number;
  resource: unknown;
  values: unknown;
}

interface PassEncoder {
  setPipeline(p: unknown): void;
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number, y: number, z: number): void;
}

interface BackendInternals {
  device: {
    createShaderModule(d: { code: string }): unknown;
    createComputePipeline(d: unknown): { getBindGroupLayout(i: number): unknown };
    createBindGroup(d: unknown): unknown;
    limits: { maxComputeWorkgroupsPerDimension: number };
  };
  tensorMap: { get(id: unknown): TensorData | undefined };
  uploadToGPU(id: unknown): void;
  tensorToBinding(t: tf.TensorInfo): unknown;
  makeUniforms(u: UniformValue[]): unknown;
  commandQueueOwnedIds: { add(id: unknown): void };
  ensureCommandEncoderReady(): void;
  commandEncoder: { beginComputePass(d: object): PassEncoder };
  computePassEncoder: PassEncoder | null;
  dispatchCountInPass: number;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

const WG = 64;

const code = `
struct Scalars {
  beta1 : f32, oneMinusBeta1 : f32, beta2 : f32, oneMinusBeta2 : f32,
  bc1 : f32, bc2 : f32, eps : f32, lr : f32, decay : f32, size : i32,
};
@group(0) @binding(0) var<storage, read_write> p : array<f32>;
@group(0) @binding(1) var<storage, read_write> m : array<f32>;
@group(0) @binding(2) var<storage, read_write> v : array<f32>;
@group(0) @binding(3) var<storage, read> g : array<f32>;
@group(0) @binding(4) var<uniform> u : Scalars;

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wid : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>, @builtin(local_invocation_index) lid : u32) {
  let i = i32((wid.y * groups.x + wid.x) * ${WG}u + lid);
  if (i >= u.size) { return; }
  let gi = g[i];
  let mN = m[i] * u.beta1 + gi * u.oneMinusBeta1;
  let vN = v[i] * u.beta2 + (gi * gi) * u.oneMinusBeta2;
  m[i] = mN;
  v[i] = vN;
  let update = (mN / u.bc1) / (sqrt(vN / u.bc2) + u.eps);
  p[i] = p[i] * u.decay - update * u.lr;
}`;

const pipelines = new WeakMap<object, { getBindGroupLayout(i: number): unknown }>();

const members = ['device', 'tensorMap', 'uploadToGPU', 'tensorToBinding', 'makeUniforms', 'commandQueueOwnedIds', 'ensureCommandEncoderReady', 'endComputePassEncoder', 'submitQueue'];

/** Whether the backend exposes what the in-place step needs and p, m, v are each one tensor's own buffer, distinct from g's. */
export function canUpdateInPlace(backend: unknown, p: tf.TensorInfo, m: tf.TensorInfo, v: tf.TensorInfo, g: tf.TensorInfo): boolean {
  const b = backend as Partial<BackendInternals> & Record<string, unknown>;
  if (!members.every((k) => b[k] !== undefined && b[k] !== null)) return false;
  // One buffer bound twice (read-write and read) would make the dispatch invalid.
  if (new Set([p.dataId, m.dataId, v.dataId, g.dataId]).size !== 4) return false;
  return [p, m, v].every((t) => b.tensorMap!.get(t.dataId)?.refCount === 1);
}

/** SlAdamWInPlace (p, m, v, g), attrs AdamWScalars -> no outputs; p, m, v hold the new values. */
export function adamwStepInPlace(backend: unknown, p: tf.TensorInfo, m: tf.TensorInfo, v: tf.TensorInfo, g: tf.TensorInfo, s: AdamWScalars): tf.TensorInfo[] {
  const b = backend as BackendInternals;
  const size = p.shape.reduce((a, c) => a * c, 1);
  if (size === 0) return [];
  for (const t of [p, m, v, g]) b.uploadToGPU(t.dataId);
  let pipeline = pipelines.get(b.device);
  if (pipeline === undefined) {
    pipeline = b.device.createComputePipeline({ layout: 'auto', compute: { module: b.device.createShaderModule({ code }), entryPoint: 'main' } });
    pipelines.set(b.device, pipeline);
  }
  const scalars = [s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, s.bc1, s.bc2, s.eps, s.lr, s.decay];
  const uniforms = b.makeUniforms([...scalars.map((x): UniformValue => ({ type: 'float32', data: [x] })), { type: 'int32', data: [size] }]);
  const bindings = [...[p, m, v, g].map((t) => b.tensorToBinding(t)), uniforms];
  const bindGroup = b.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: bindings.map((resource, binding) => ({ binding, resource })) });
  for (const t of [p, m, v, g]) b.commandQueueOwnedIds.add(t.dataId);
  const groups = Math.ceil(size / WG);
  const gx = Math.min(groups, b.device.limits.maxComputeWorkgroupsPerDimension);
  b.ensureCommandEncoderReady();
  b.computePassEncoder ??= b.commandEncoder.beginComputePass({});
  b.computePassEncoder.setPipeline(pipeline);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(gx, Math.ceil(groups / gx), 1);
  // The GPU copies are now the truth: drop what an earlier read cached on the CPU.
  for (const t of [p, m, v]) b.tensorMap.get(t.dataId)!.values = null;
  b.dispatchCountInPass++;
  if (b.dispatchCountInPass >= tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
  return [];
}
