/**
 * The small structural slice of @tensorflow/tfjs-backend-webgpu this package's fused kernels use.
 * That package is an optional peer, so nothing here imports it: a kernel receives the live
 * backend object and hands it a program (WGSL source plus dispatch geometry) to run.
 *
 * What the backend wraps around `getUserCode()` (webgpu_program.js in tfjs-backend-webgpu):
 * each name in `variableNames` becomes a read-only storage array, the output is `result`,
 * `uniforms.<name>` holds the declared uniforms, and `main(index)` is called with the flat
 * invocation index (workgroup-linear id * workgroup size + local index, also after the backend
 * splits a dispatch wider than 65535 workgroups over y/z). `localId` is a private copy of the
 * local invocation id.
 */
import type * as tf from '@tensorflow/tfjs-core';

export interface WebgpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  /** WGSL struct fields, e.g. `eps : f32, rows : i32,` (in the order of the uniform values). */
  uniforms?: string;
  size?: boolean;
  /** Components per element of each input's storage array (4: `array<vec4<f32>>`); default 1. */
  variableComponents?: number[];
  getUserCode(): string;
}

export interface UniformValue {
  type: 'float32' | 'int32';
  data: number[];
}

interface WebgpuBackendLike {
  runWebGPUProgram(program: WebgpuProgram, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms?: UniformValue[]): tf.TensorInfo;
}

/** Runs one program (one dispatch) on the webgpu backend; the result is a new tensor. */
export function runProgram(backend: unknown, program: WebgpuProgram, inputs: tf.TensorInfo[], uniforms: UniformValue[] = [], dtype: tf.DataType = 'float32'): tf.TensorInfo {
  return (backend as WebgpuBackendLike).runWebGPUProgram(program, inputs, dtype, uniforms);
}

export const f32 = (...data: number[]): UniformValue => ({ type: 'float32', data });
export const i32 = (...data: number[]): UniformValue => ({ type: 'int32', data });

/**
 * A program with one workgroup of `wg` threads per row of a [rows, cols] problem, so rows can be
 * reduced in workgroup memory. `key` must name everything baked into the WGSL text.
 */
export function rowProgram(key: string, outputShape: number[], rows: number, variableNames: string[], uniforms: string, wg: number, code: string): WebgpuProgram {
  return {
    outputShape,
    shaderKey: `${key}_wg${wg}`,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [rows, 1, 1],
    variableNames,
    workgroupSize: [wg, 1, 1],
    uniforms,
    getUserCode: () => code,
  };
}

/** A program with one thread per output element (`size` elements), flat index `index`. */
export function elementwiseProgram(key: string, outputShape: number[], variableNames: string[], uniforms: string, code: string, wg = 64): WebgpuProgram {
  const size = outputShape.reduce((a, b) => a * b, 1);
  return {
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size / wg), 1, 1],
    variableNames,
    workgroupSize: [wg, 1, 1],
    uniforms,
    size: true,
    getUserCode: () => code,
  };
}

/** Workgroup size for row reductions: wider rows get more threads. */
export function rowWorkgroup(cols: number): number {
  return cols >= 2048 ? 256 : cols >= 256 ? 128 : 64;
}

/**
 * WGSL for a tree reduction of `buf` (workgroup array of `wg` values of type T) with `op`,
 * leaving the result in buf[0]. Bounds are compile-time constants, so every barrier is reached
 * in uniform control flow (WGSL requires it) whatever the row's validity.
 */
export function treeReduce(buf: string, wg: number, op: (a: string, b: string) => string): string {
  return `
      workgroupBarrier();
      for (var s = ${wg / 2}; s > 0; s = s >> 1) {
        if (tid < s) { ${buf}[tid] = ${op(`${buf}[tid]`, `${buf}[tid + s]`)}; }
        workgroupBarrier();
      }`;
}
