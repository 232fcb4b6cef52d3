/**
 * Compute passes with several outputs, or outputs written in place, which a tfjs-webgpu program
 * (one new tensor per dispatch) cannot express. A raw kernel binds tensors' buffers directly,
 * read-only or read-write, and records its dispatch into the backend's command stream the way
 * `runWebGPUProgram` does (same encoder and pass, same submit batching), through members of
 * the 4.22 backend that `rawAvailable` checks at run time.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { UniformValue } from './program.js';

interface TensorData {
  refCount: number;
  values: unknown;
}

interface PassEncoder {
  setPipeline(p: unknown): void;
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number, y: number, z: number): void;
}

interface Pipeline {
  getBindGroupLayout(i: number): unknown;
}

export interface BackendInternals {
  device: {
    createShaderModule(d: { code: string }): unknown;
    createComputePipeline(d: unknown): Pipeline;
    createBindGroup(d: unknown): unknown;
    limits: { maxComputeWorkgroupsPerDimension: number; maxStorageBuffersPerShaderStage: number };
  };
  tensorMap: { get(id: unknown): TensorData | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
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

const members = ['device', 'tensorMap', 'makeTensorInfo', 'uploadToGPU', 'tensorToBinding', 'makeUniforms', 'commandQueueOwnedIds', 'ensureCommandEncoderReady', 'endComputePassEncoder', 'submitQueue'];

/** Whether `backend` has every member a raw kernel uses (the webgpu backend of tfjs 4.22 does). */
export function rawAvailable(backend: unknown): backend is BackendInternals {
  const b = backend as Record<string, unknown> | null;
  return b !== null && typeof b === 'object' && members.every((k) => b[k] !== undefined && b[k] !== null);
}

export interface RawKernel {
  /** Names everything that differs in the WGSL text. */
  key: string;
  /** Tensors bound in this order as `array<f32>` (int32/bool as `array<i32>`) named by `name`. */
  bindings: Array<{ name: string; tensor: tf.TensorInfo; write?: boolean }>;
  /** WGSL fields of the uniform struct `u`, scalars only (`rows : i32, eps : f32`), and their values. */
  uniforms: Array<[field: string, value: UniformValue]>;
  workgroupSize: number;
  workgroups: number;
  /** Body of the entry point; it sees `group` (linear workgroup index, i32) and `tid` (local index, i32). */
  body: string;
  /** WGSL placed before the entry point (workgroup arrays, helpers). */
  prelude?: string;
}

// A compiled kernel and its bind group layout (asked of the pipeline once: Dawn makes a new
// layout object per call).
interface Compiled {
  pipeline: Pipeline;
  layout: unknown;
}

const pipelines = new WeakMap<object, Map<string, Compiled>>();

function pipelineFor(b: BackendInternals, k: RawKernel): Compiled {
  let cache = pipelines.get(b.device);
  if (cache === undefined) pipelines.set(b.device, (cache = new Map()));
  const key = `${k.key}_${k.workgroupSize}_${k.bindings.map((x) => `${x.tensor.dtype}${x.write === true ? 'w' : 'r'}`).join('')}`;
  let compiled = cache.get(key);
  if (compiled === undefined) {
    const decls = k.bindings.map(
      (x, i) => `@group(0) @binding(${i}) var<storage, ${x.write === true ? 'read_write' : 'read'}> ${x.name} : array<${x.tensor.dtype === 'float32' ? 'f32' : 'i32'}>;`,
    );
    const code = `
struct Uniforms { ${k.uniforms.map(([f]) => f).join(', ')}, };
${decls.join('\n')}
@group(0) @binding(${k.bindings.length}) var<uniform> u : Uniforms;
${k.prelude ?? ''}
@compute @workgroup_size(${k.workgroupSize}, 1, 1)
fn main(@builtin(workgroup_id) wid : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>, @builtin(local_invocation_index) lid : u32) {
  let group = i32(wid.y * groups.x + wid.x);
  let tid = i32(lid);
  ${k.body}
}`;
    const pipeline = b.device.createComputePipeline({ layout: 'auto', compute: { module: b.device.createShaderModule({ code }), entryPoint: 'main' } });
    cache.set(key, (compiled = { pipeline, layout: pipeline.getBindGroupLayout(0) }));
  }
  return compiled;
}

/** The backend as raw-kernel capable, or a clear error (the ops check {@link rawAvailable} first). */
export function rawBackend(backend: unknown): BackendInternals {
  if (!rawAvailable(backend)) throw new Error('fused webgpu kernels: the active backend lacks the @tensorflow/tfjs-backend-webgpu 4.22 members they use');
  return backend;
}

/** New uninitialised float32 tensors for a raw kernel to write. */
export function rawOutput(b: BackendInternals, shape: number[]): tf.TensorInfo {
  const t = b.makeTensorInfo(shape, 'float32');
  b.uploadToGPU(t.dataId);
  return t;
}

/** Records one dispatch of `k` (the GPU copies of written tensors become the truth). */
export function runRaw(b: BackendInternals, k: RawKernel): void {
  if (k.workgroups === 0) return;
  for (const x of k.bindings) b.uploadToGPU(x.tensor.dataId);
  const { pipeline, layout } = pipelineFor(b, k);
  const resources = [...k.bindings.map((x) => b.tensorToBinding(x.tensor)), b.makeUniforms(k.uniforms.map(([, v]) => v))];
  const bindGroup = b.device.createBindGroup({ layout, entries: resources.map((resource, binding) => ({ binding, resource })) });
  for (const x of k.bindings) b.commandQueueOwnedIds.add(x.tensor.dataId);
  const gx = Math.min(k.workgroups, b.device.limits.maxComputeWorkgroupsPerDimension);
  b.ensureCommandEncoderReady();
  b.computePassEncoder ??= b.commandEncoder.beginComputePass({});
  b.computePassEncoder.setPipeline(pipeline);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(gx, Math.ceil(k.workgroups / gx), 1);
  // A read may have cached a CPU copy of a written tensor: drop it.
  for (const x of k.bindings) if (x.write === true) b.tensorMap.get(x.tensor.dataId)!.values = null;
  b.dispatchCountInPass++;
  if (b.dispatchCountInPass >= tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
}

export const f32u = (data: number): UniformValue => ({ type: 'float32', data: [data] });
export const i32u = (data: number): UniformValue => ({ type: 'int32', data: [data] });

// 8 columns (32 bytes of a row: one memory sector) x 32 row lanes per workgroup, so a 512-wide
// gradient still spreads over 64 workgroups and each thread loops over rows / 32.
const COLS_PER_GROUP = 8;
const LANES = 32;

export interface ColumnSums {
  key: string;
  rows: number;
  cols: number;
  inputs: Array<{ name: string; tensor: tf.TensorInfo }>;
  /** One [cols] output per entry: sum over rows r of `term` (WGSL in `r`, column `j` and `u.*`). */
  outputs: Array<{ name: string; term: string }>;
  /** Extra i32 uniforms the terms use. */
  uniforms?: Array<[name: string, value: number]>;
  /**
   * Element-wise outputs written in the same pass: `statement` runs once per (r, j) before the
   * terms (its `let`s are visible to them) and writes each tensor of `writes` (shaped like the rows).
   */
  perElement?: { statement: string; writes: Array<{ name: string; tensor: tf.TensorInfo }> };
  /** WGSL helpers the terms or statement call. */
  prelude?: string;
}

/** Several column sums over the same rows in one dispatch, each into its own new [cols] tensor. */
export function runColumnSums(b: BackendInternals, c: ColumnSums): tf.TensorInfo[] {
  const wg = COLS_PER_GROUP * LANES;
  const outs = c.outputs.map(() => rawOutput(b, [c.cols]));
  const n = c.outputs.length;
  runRaw(b, {
    key: `slColumnSums_${c.key}`,
    bindings: [
      ...c.inputs,
      ...(c.perElement?.writes ?? []).map((w) => ({ ...w, write: true })),
      ...c.outputs.map((o, i) => ({ name: o.name, tensor: outs[i]!, write: true })),
    ],
    uniforms: [['rows : i32', i32u(c.rows)], ['cols : i32', i32u(c.cols)], ...(c.uniforms ?? []).map(([f, v]): [string, UniformValue] => [`${f} : i32`, i32u(v)])],
    workgroupSize: wg,
    workgroups: Math.ceil(c.cols / COLS_PER_GROUP),
    prelude: `var<workgroup> buf : array<f32, ${wg * n}>;\n${c.prelude ?? ''}`,
    body: `
  let j = group * ${COLS_PER_GROUP} + tid % ${COLS_PER_GROUP};
  let lane = tid / ${COLS_PER_GROUP};
  let ok = j < u.cols;
  ${c.outputs.map((_, i) => `var acc${i} = 0.0;`).join(' ')}
  if (ok) {
    for (var r = lane; r < u.rows; r += ${LANES}) {
      ${c.perElement?.statement ?? ''}
      ${c.outputs.map((o, i) => `acc${i} += ${o.term};`).join('\n      ')}
    }
  }
  ${c.outputs.map((_, i) => `buf[${i * wg} + tid] = acc${i};`).join(' ')}
  workgroupBarrier();
  if (lane == 0 && ok) {
    ${c.outputs.map((o, i) => `var s${i} = 0.0; for (var k = 0; k < ${LANES}; k++) { s${i} += buf[${i * wg} + k * ${COLS_PER_GROUP} + tid]; } ${o.name}[j] = s${i};`).join('\n    ')}
  }`,
  });
  return outs;
}
