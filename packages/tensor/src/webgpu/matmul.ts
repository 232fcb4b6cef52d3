/**
 * A register-blocked, shared-memory tiled float32 matmul for webgpu, selectable in place of
 * tfjs-webgpu's own (`SL_WEBGPU_MATMUL`): tfjs tiles 32 x 32 outputs per 64-thread workgroup
 * (4 x 4 per thread), which on a datacentre GPU reaches ~12 TFLOP/s of an H200's fp32 (measured
 * before this existed; the large train step's matmuls were 113 of its 148 GPU ms). These tile
 * 64 x 64 or 128 x 128 outputs per 256-thread workgroup (4 x 4 or 8 x 8 per thread), reading
 * each A and B element from global memory 2x or 4x less often per FMA.
 *
 * `vec64`/`vec128` are the same tiles with 16-byte loads (./matmul-vec4.ts). Which is faster on a
 * given GPU is measured, not assumed: the default stays `tfjs` until a GPU run of `pnpm bench
 * train-step --webgpu-flags` with every tiling says otherwise (scripts/gpu-check runs it). Every
 * variant is tested against cpu (matmul.test.ts).
 *
 * Layout: A [batchA, M, K] (or [batchA, K, M] with transposeA), B [batchB, K, N] (or [batchB, N, K]
 * with transposeB), C [batch, M, N]; batchA and batchB are batch or 1 (broadcast). A thread
 * (tx, ty) of a workgroup owns the strided outputs (ty + i*threadsY, tx + j*threadsX) of its tile,
 * so neighbouring threads write neighbouring columns and read shared memory without conflicts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { epilogueKey, epilogueTerms, tilePrologue, tiledProgram, type Epilogue } from './matmul-program.js';
import { registerCheckedFlag } from './flag.js';
import { vec4MatMulProgram } from './matmul-vec4.js';
import { i32, runProgram, type WebgpuProgram } from './program.js';

export interface MatMulTiling {
  /** Output rows and columns per workgroup, and the K slice staged in shared memory per step. */
  tileM: number;
  tileN: number;
  tileK: number;
  /** Threads per workgroup along N (x) and M (y). */
  threadsX: number;
  threadsY: number;
  /** 16-byte loads and 4 x 4 register blocks with an unrolled k loop (./matmul-vec4.ts), else float by float. */
  vec4: boolean;
}

/** The tilings `SL_WEBGPU_MATMUL` can select (shared memory ~(tileM + tileN) x tileK x 4 B, 8 KiB each). */
export const matMulTilings = {
  tiled64: { tileM: 64, tileN: 64, tileK: 16, threadsX: 16, threadsY: 16, vec4: false },
  tiled128: { tileM: 128, tileN: 128, tileK: 8, threadsX: 16, threadsY: 16, vec4: false },
  vec64: { tileM: 64, tileN: 64, tileK: 16, threadsX: 16, threadsY: 16, vec4: true },
  vec128: { tileM: 128, tileN: 128, tileK: 8, threadsX: 16, threadsY: 16, vec4: true },
} as const satisfies Record<string, MatMulTiling>;
export type MatMulTilingName = keyof typeof matMulTilings;

/** tfjs flag choosing the webgpu matmul: `tfjs` (its own programs, the default) or a tiling above. */
export const MATMUL_FLAG = 'SL_WEBGPU_MATMUL';
export const matMulChoices = ['tfjs', ...(Object.keys(matMulTilings) as MatMulTilingName[])] as [string, ...string[]] as ['tfjs', ...MatMulTilingName[]];
export type MatMulChoice = 'tfjs' | MatMulTilingName;

registerCheckedFlag(MATMUL_FLAG, 'tfjs', (v) => ((matMulChoices as readonly unknown[]).includes(v) ? undefined : `must be one of ${matMulChoices.join(', ')}`));

/** The tiling the flag selects, or undefined for tfjs's own matmul. */
export function selectedTiling(): MatMulTiling | undefined {
  const v = tf.env().get(MATMUL_FLAG) as string;
  return v === 'tfjs' ? undefined : matMulTilings[v as MatMulTilingName];
}

/**
 * WGSL that stages one operand's [tile, tileK] slice (k from k0) in shared memory `staged`,
 * k-major with row stride `stride`, zero past the matrix's edges. The global reads follow the
 * operand's storage order (K-contiguous: [dim, K]; else [K, dim]), so neighbouring threads read
 * neighbouring floats.
 */
function stageSlice(o: { input: string; staged: string; base: string; rowStride: string; origin: string; dim: string; tile: number; stride: number; kContiguous: boolean }, tileK: number, threads: number): string {
  const coords = o.kContiguous ? `let outer = idx / ${tileK}; let kk = idx % ${tileK};` : `let kk = idx / ${o.tile}; let outer = idx % ${o.tile};`;
  const index = o.kContiguous ? `at * ${o.rowStride} + k` : `k * ${o.rowStride} + at`;
  return `
        for (var l = 0; l < ${(o.tile * tileK) / threads}; l = l + 1) {
          let idx = tid + l * ${threads};
          ${coords}
          let at = ${o.origin} + outer;
          let k = k0 + kk;
          var v = 0.0;
          if (at < ${o.dim} && k < K) { v = ${o.input}[${o.base} + ${index}]; }
          ${o.staged}[kk * ${o.stride} + outer] = v;
        }`;
}

function tiledMatMulProgram(t: MatMulTiling, batch: number, m: number, n: number, transposeA: boolean, transposeB: boolean, epilogue: Epilogue): WebgpuProgram {
  const { tileM: BM, tileN: BN, tileK: BK, threadsX: WX, threadsY: WY } = t;
  const threads = WX * WY;
  const TM = BM / WY;
  const TN = BN / WX;
  // Rows of the staged tiles are one float longer than the tile: a warp storing a K-contiguous
  // slice (A as stored, or B transposed) then spreads over the banks instead of hitting one
  // bank 16 times (a row stride of 64 or 128 floats is a multiple of the 32 banks).
  const SA = BM + 1;
  const SB = BN + 1;
  const key = `slMatMul_${BM}_${BN}_${BK}_${WX}_${WY}_${transposeA}_${transposeB}_${epilogueKey(epilogue)}`;
  return tiledProgram(t, batch, m, n, epilogue, key, () => {
    const stageA = stageSlice({ input: 'A', staged: 'As', base: 'aBase', rowStride: 'aStride', origin: 'm0', dim: 'M', tile: BM, stride: SA, kContiguous: !transposeA }, BK, threads);
    const stageB = stageSlice({ input: 'B', staged: 'Bs', base: 'bBase', rowStride: 'bStride', origin: 'n0', dim: 'N', tile: BN, stride: SB, kContiguous: transposeB }, BK, threads);
    return `
      var<workgroup> As : array<f32, ${BK * SA}>;
      var<workgroup> Bs : array<f32, ${BK * SB}>;

      fn main() {${tilePrologue(t, transposeA, transposeB)}
        var acc : array<f32, ${TM * TN}>;
        var a : array<f32, ${TM}>;
        var w : array<f32, ${TN}>;
        for (var k0 = 0; k0 < K; k0 = k0 + ${BK}) {
  ${stageA}${stageB}
          workgroupBarrier();
          for (var kk = 0; kk < ${BK}; kk = kk + 1) {
            for (var i = 0; i < ${TM}; i = i + 1) { a[i] = As[kk * ${SA} + ty + i * ${WY}]; }
            for (var j = 0; j < ${TN}; j = j + 1) { w[j] = Bs[kk * ${SB} + tx + j * ${WX}]; }
            for (var i = 0; i < ${TM}; i = i + 1) {
              for (var j = 0; j < ${TN}; j = j + 1) {
                acc[i * ${TN} + j] = fma(a[i], w[j], acc[i * ${TN} + j]);
              }
            }
          }
          workgroupBarrier();
        }
        for (var i = 0; i < ${TM}; i = i + 1) {
          let row = m0 + ty + i * ${WY};
          if (row >= M) { break; }
          for (var j = 0; j < ${TN}; j = j + 1) {
            let col = n0 + tx + j * ${WX};
            if (col < N) {
              let at = cBase + row * cStride + col;
              result[at] = acc[i * ${TN} + j]${epilogueTerms(epilogue, 'at', 'col')};
            }
          }
        }
      }`;
  });
}

/** A TensorInfo viewing the same data under another shape (no copy; never returned or disposed). */
const view = (t: tf.TensorInfo, shape: number[]): tf.TensorInfo => ({ dataId: t.dataId, shape, dtype: t.dtype });

const prod = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);

/** Options of {@link tiledMatMul}. */
export interface TiledMatMulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  /** [N], added in the epilogue. */
  bias?: tf.TensorInfo;
  /** The output's size and layout, added in the epilogue. */
  residual?: tf.TensorInfo;
  /**
   * Heads layout of A, B or the output (./matmul-program.ts tilePrologue): `h` > 1 holds the batch
   * matrices as [batch / h, rows, h, cols]. The operand is then given with its logical shape
   * [batch, rows, cols]; an output in heads layout is returned with shape [batch, M, N] over data
   * laid out [batch / h, M, h, N] (reshape it to [batch / h, M, h * N]). Needs equal batches.
   */
  heads?: { a?: number; b?: number; out?: number };
}

/**
 * a [...batch, M, K] x b [...batch, K, N] (each optionally transposed in its last two dims, each
 * batch either the other's or all ones) -> [...batch, M, N] with `tiling`, plus bias [N] and a
 * residual of the output's size in the epilogue, operands and output optionally in heads layout.
 * Undefined when the shapes are outside what the program handles (other broadcasts, non-float32,
 * a batch over the dispatch limit): the caller runs tfjs's kernels instead.
 */
export function tiledMatMul(backend: unknown, a: tf.TensorInfo, b: tf.TensorInfo, tiling: MatMulTiling, o: TiledMatMulOptions = {}): tf.TensorInfo | undefined {
  const { transposeA = false, transposeB = false, bias, residual } = o;
  const heads = { a: o.heads?.a ?? 1, b: o.heads?.b ?? 1, out: o.heads?.out ?? 1 };
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb) return undefined;
  const batchDimsA = a.shape.slice(0, -2);
  const batchDimsB = b.shape.slice(0, -2);
  const batchA = prod(batchDimsA);
  const batchB = prod(batchDimsB);
  // Same batch dims, or one side without batch (all ones): the only broadcasts handled here.
  let batchDims: number[];
  if (batchA === batchB && (batchDimsA.length === batchDimsB.length ? batchDimsA.every((d, i) => d === batchDimsB[i]) : batchA === 1)) {
    batchDims = batchDimsA.length >= batchDimsB.length ? batchDimsA : batchDimsB;
  } else if (batchB === 1 && batchDimsB.length <= batchDimsA.length) batchDims = batchDimsA;
  else if (batchA === 1 && batchDimsA.length <= batchDimsB.length) batchDims = batchDimsB;
  else return undefined;
  const batch = Math.max(batchA, batchB);
  if (batch > 65535 || Math.ceil(n / tiling.tileN) > 65535 || Math.ceil(m / tiling.tileM) > 65535) return undefined;
  if (bias !== undefined && (bias.dtype !== 'float32' || prod(bias.shape) !== n)) return undefined;
  if (residual !== undefined && (residual.dtype !== 'float32' || prod(residual.shape) !== batch * m * n)) return undefined;
  const headed = heads.a > 1 || heads.b > 1 || heads.out > 1;
  if (headed && (batchA !== batch || batchB !== batch || [heads.a, heads.b, heads.out].some((h) => !Number.isInteger(h) || h < 1 || batch % h !== 0))) return undefined;
  const epilogue = { bias: bias !== undefined, residual: residual !== undefined };
  // vec4 reads need the contiguous dimension of an operand's storage to be a multiple of 4.
  const program = tiling.vec4
    ? vec4MatMulProgram(tiling, batch, m, n, transposeA, transposeB, epilogue, (transposeA ? m : k) % 4 === 0, (transposeB ? k : n) % 4 === 0)
    : tiledMatMulProgram(tiling, batch, m, n, transposeA, transposeB, epilogue);
  const inputs = [view(a, [batchA, transposeA ? k : m, transposeA ? m : k]), view(b, [batchB, transposeB ? n : k, transposeB ? k : n])];
  if (bias !== undefined) inputs.push(view(bias, [n]));
  if (residual !== undefined) inputs.push(view(residual, [batch * m * n]));
  const out = runProgram(backend, program, inputs, [i32(m), i32(n), i32(k), i32(batchA), i32(batchB), i32(heads.a), i32(heads.b), i32(heads.out)]);
  const shape = [...batchDims, m, n];
  if (shape.length === 3 && shape[0] === batch) return out;
  // The output's data is [batch, M, N] row-major already: a reshape shares it.
  const reshape = tf.getKernel(tf.Reshape, 'webgpu')!;
  const reshaped = reshape.kernelFunc({ inputs: { x: out }, backend: backend as tf.KernelBackend, attrs: { shape } }) as tf.TensorInfo;
  (backend as tf.KernelBackend).disposeData(out.dataId);
  return reshaped;
}

let installed = false;

/**
 * Puts a wrapper around the webgpu backend's BatchMatMul kernel that runs {@link tiledMatMul} when
 * `SL_WEBGPU_MATMUL` selects a tiling (and the shapes fit), else the wrapped kernel. Called once
 * tfjs-backend-webgpu has registered its kernels (initBackend('webgpu')); idempotent.
 */
export function installTiledMatMul(): void {
  if (installed) return;
  const original = tf.getKernel(tf.BatchMatMul, 'webgpu');
  if (original === undefined) return;
  installed = true;
  tf.unregisterKernel(tf.BatchMatMul, 'webgpu');
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const tiling = selectedTiling();
      if (tiling !== undefined) {
        const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
        const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
        const out = tiledMatMul(args.backend, a, b, tiling, { transposeA: attrs.transposeA, transposeB: attrs.transposeB });
        if (out !== undefined) return out;
      }
      return original.kernelFunc(args);
    },
  });
}
