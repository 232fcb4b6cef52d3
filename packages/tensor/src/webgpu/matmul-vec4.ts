/**
 * The vec4 variant of the tiled float32 matmul (./matmul.ts; `SL_WEBGPU_MATMUL=vec64|vec128`):
 * the same tiles, but every memory access moves four floats and the inner product is straight-line
 * code, which is how fast float32 GEMMs are written for GPUs that are not reached through CUDA:
 *
 * - Operands are read from global memory as `vec4<f32>` along their contiguous dimension when its
 *   length is a multiple of 4 (so every vec4 lies wholly inside or outside the matrix); otherwise
 *   that operand is read as 4 guarded floats (the key records which, per operand).
 * - Shared memory holds both slices k-major as vec4 along M or N, so per k a thread reads its
 *   rows of A and its columns of B with 2 (vec64: 2 x 1, vec128: 2 x 2) 16-byte loads where the
 *   scalar tiling makes 8 (16) 4-byte ones: 64 FMAs per 4 shared loads in vec128.
 * - A thread owns 4 x 4 output blocks (1 in vec64, 2 x 2 in vec128) held in named vec4
 *   registers, and the k loop over a staged slice is unrolled in the WGSL text: nothing is left
 *   to the driver's unroller or to private-memory arrays.
 *
 * Block (gm, gn) of thread (tx, ty) covers rows gm * 4 * threadsY + 4 * ty + [0, 4) and columns
 * gn * 4 * threadsX + 4 * tx + [0, 4) of its workgroup's tile: the 16 threads of a row read 16
 * neighbouring vec4 of B's slice, and a warp reads 2 addresses of A's (broadcast).
 */
import type { MatMulTiling } from './matmul.js';
import { epilogueTerms, tilePrologue, tiledProgram, type Epilogue } from './matmul-program.js';
import type { WebgpuProgram } from './program.js';

/** One operand: where its slice goes, and how its global layout is read. */
interface Operand {
  input: 'A' | 'B';
  staged: 'As' | 'Bs';
  base: 'aBase' | 'bBase';
  /** How far apart the stored rows are ('aStride', 'bStride': the heads layout's, see tilePrologue). */
  rowStride: 'aStride' | 'bStride';
  /** The slice's first row (A, in M) or column (B, in N) of the output tile. */
  origin: 'm0' | 'n0';
  /** The operand's output dimension (M for A, N for B). */
  dim: 'M' | 'N';
  tile: number;
  /** K is the contiguous dimension in memory ([dim, K] as stored), else the output one ([K, dim]). */
  kContiguous: boolean;
  /** Read `vec4<f32>` from global memory (the contiguous dimension is a multiple of 4). */
  vec: boolean;
}

/**
 * WGSL staging an operand's [tileK, tile] slice (k from k0) into `staged`, k-major, vec4 along the
 * output dimension; zero past the matrix's edges. Global reads follow the storage order.
 */
function stage(o: Operand, tileK: number, threads: number): string {
  const loads = (o.tile * tileK) / 4 / threads;
  const q = o.tile / 4; // vec4 per staged row
  // A vec4 of 4 floats at flat index `at0` and its 3 successors, each kept if `ok(c)` holds.
  const guarded = (at0: string, ok: (c: number) => string) =>
    `vec4<f32>(${[0, 1, 2, 3].map((c) => `select(0.0, ${o.input}[select(0, ${at0} + ${c}, ${ok(c)})], ${ok(c)})`).join(', ')})`;
  if (o.kContiguous) {
    // [dim, K] in memory: 4 consecutive k of one row, stored as 4 floats of 4 k-rows of the slice.
    const read = o.vec
      ? `select(vec4<f32>(0.0), ${o.input}[select(0, (${o.base} + at * ${o.rowStride} + k) / 4, inside)], inside)`
      : guarded(`${o.base} + at * ${o.rowStride} + k`, (c) => `(at < ${o.dim} && k + ${c} < K)`);
    return `
        for (var l = 0; l < ${loads}; l = l + 1) {
          let idx = tid + l * ${threads};
          let outer = idx / ${tileK / 4};
          let k4 = idx % ${tileK / 4};
          let at = ${o.origin} + outer;
          let k = k0 + 4 * k4;
          let inside = at < ${o.dim} && k < K;
          let v = ${read};
          for (var c = 0; c < 4; c = c + 1) { ${o.staged}[(4 * k4 + c) * ${q} + outer / 4][outer % 4] = v[c]; }
        }`;
  }
  // [K, dim] in memory: 4 consecutive columns of one k, stored as they are.
  const read = o.vec
    ? `select(vec4<f32>(0.0), ${o.input}[select(0, (${o.base} + k * ${o.rowStride} + at) / 4, inside)], inside)`
    : guarded(`${o.base} + k * ${o.rowStride} + at`, (c) => `(at + ${c} < ${o.dim} && k < K)`);
  return `
        for (var l = 0; l < ${loads}; l = l + 1) {
          let idx = tid + l * ${threads};
          let kk = idx / ${q};
          let at = ${o.origin} + 4 * (idx % ${q});
          let k = k0 + kk;
          let inside = at < ${o.dim} && k < K;
          ${o.staged}[idx] = ${read};
        }`;
}

export function vec4MatMulProgram(
  t: MatMulTiling, batch: number, m: number, n: number, transposeA: boolean, transposeB: boolean, epilogue: Epilogue, vecA: boolean, vecB: boolean,
): WebgpuProgram {
  const { tileM: BM, tileN: BN, tileK: BK, threadsX: WX, threadsY: WY } = t;
  const threads = WX * WY;
  const GM = BM / (4 * WY); // 4 x 4 blocks per thread along M and N
  const GN = BN / (4 * WX);
  if (!Number.isInteger(GM) || !Number.isInteger(GN) || BK % 4 !== 0 || (BM * BK) % (4 * threads) !== 0 || (BN * BK) % (4 * threads) !== 0) {
    throw new Error(`vec4 matmul: tiling ${JSON.stringify(t)} does not divide into 4 x 4 blocks and whole vec4 loads per thread`);
  }
  const key = `slMatMulV4_${BM}_${BN}_${BK}_${WX}_${WY}_${transposeA}_${transposeB}_${epilogue.bias}_${vecA}_${vecB}${epilogue.residual ? '_res' : ''}`;
  return tiledProgram(t, batch, m, n, epilogue, key, () => {
    const range = (len: number) => Array.from({ length: len }, (_, i) => i);
    const acc = (gm: number, r: number, gn: number) => `c${gm}${r}_${gn}`;
    const lane = ['x', 'y', 'z', 'w'];
    const decls = range(GM).flatMap((gm) => range(4).flatMap((r) => range(GN).map((gn) => `var ${acc(gm, r, gn)} = vec4<f32>(0.0);`)));
    // One k of the staged slice: GM + GN shared loads, then 16 * GM * GN vec4 FMAs.
    const step = (kk: number) => [
      ...range(GM).map((gm) => `let a${gm} = As[${kk * (BM / 4) + gm * WY} + ty];`),
      ...range(GN).map((gn) => `let b${gn} = Bs[${kk * (BN / 4) + gn * WX} + tx];`),
      ...range(GM).flatMap((gm) => range(4).flatMap((r) => range(GN).map((gn) => `${acc(gm, r, gn)} = fma(vec4<f32>(a${gm}.${lane[r]}), b${gn}, ${acc(gm, r, gn)});`))),
    ].join('\n          ');
    const write = range(GM).flatMap((gm) => range(4).map((r) => `
        {
          let row = m0 + ${gm * 4 * WY + r} + 4 * ty;
          if (row < M) {${range(GN).map((gn) => `
            store(cBase + row * cStride, n0 + ${gn * 4 * WX} + 4 * tx, ${acc(gm, r, gn)});`).join('')}
          }
        }`)).join('');
    const a: Operand = { input: 'A', staged: 'As', base: 'aBase', rowStride: 'aStride', origin: 'm0', dim: 'M', tile: BM, kContiguous: !transposeA, vec: vecA };
    const b: Operand = { input: 'B', staged: 'Bs', base: 'bBase', rowStride: 'bStride', origin: 'n0', dim: 'N', tile: BN, kContiguous: transposeB, vec: vecB };
    const code = `
      var<workgroup> As : array<vec4<f32>, ${(BK * BM) / 4}>;
      var<workgroup> Bs : array<vec4<f32>, ${(BK * BN) / 4}>;

      // The 4 columns from col of the output row starting at rowStart, each written if inside the matrix.
      fn store(rowStart : i32, col : i32, v : vec4<f32>) {
        let N = uniforms.n;
        let at = rowStart + col;
        for (var c = 0; c < 4; c = c + 1) {
          if (col + c < N) { result[at + c] = v[c]${epilogueTerms(epilogue, 'at + c', 'col + c')}; }
        }
      }

      fn main() {${tilePrologue(t, transposeA, transposeB)}
        ${decls.join('\n      ')}
        for (var k0 = 0; k0 < K; k0 = k0 + ${BK}) {
  ${stage(a, BK, threads)}${stage(b, BK, threads)}
          workgroupBarrier();
          {
            ${range(BK).map(step).join('\n        }\n        {\n          ')}
          }
          workgroupBarrier();
        }${write}
      }`;
    return code;
  }, [vecA ? 4 : 1, vecB ? 4 : 1]);
}
