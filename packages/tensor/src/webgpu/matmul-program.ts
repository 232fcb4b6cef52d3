import type { MatMulTiling } from './matmul.js';
import type { WebgpuProgram } from './program.js';

/**
 * What the tiled matmul programs (./matmul.ts, ./matmul-vec4.ts) share: their geometry (one
 * workgroup per output tile of one batch matrix), the WGSL that locates a workgroup's tile, and
 * the epilogue, what they add to an output element before storing it: a bias over the columns (a Linear layer's, `SlMatMulBias`) and a residual of the output's
 * shape (`SlMatMulBiasAdd`: a transformer block's x + W·h + b in the projection's one dispatch).
 * Added left to right after the product, as the composite (x W + b) + r does.
 */
export interface Epilogue {
  bias: boolean;
  residual: boolean;
}

/** The epilogue's part of a program's shader key. */
export const epilogueKey = (e: Epilogue): string => `${e.bias}${e.residual ? '_res' : ''}`;

/** The epilogue's inputs, after A and B: `bias` [N], `residual` [batch, M, N]. */
export const epilogueInputs = (e: Epilogue): string[] => [...(e.bias ? ['bias'] : []), ...(e.residual ? ['residual'] : [])];

/** WGSL terms added to the product of output `at` (flat index) in column `col`. */
export const epilogueTerms = (e: Epilogue, at: string, col: string): string => `${e.bias ? ` + bias[${col}]` : ''}${e.residual ? ` + residual[${at}]` : ''}`;

/**
 * WGSL declaring, at the top of main(), a thread's place (tx, ty, tid), the sizes (M, N, K), its
 * batch matrix b, its tile's origin (m0, n0), and where the operands' and the output's matrices
 * start and how far apart their rows are (aBase/aStride, bBase/bStride, cBase/cStride).
 *
 * Each of A, B and C may hold its batch matrices in heads layout (uniforms headsA/headsB/headsC,
 * 1 for plain): [batch / heads, rows, heads, cols], the rows of a batch's heads interleaved, as
 * attention's [batch, len, heads, dim] against its per-head [batch, heads, len, dim]. Matrix i then
 * starts at (i / h) * rows * cols * h + (i % h) * cols and its rows are cols * h apart; with h = 1
 * that is i * rows * cols and cols.
 */
export function tilePrologue(t: MatMulTiling, transposeA: boolean, transposeB: boolean): string {
  return `
      let tx = i32(localId.x);
      let ty = i32(localId.y);
      let tid = ty * ${t.threadsX} + tx;
      let M = uniforms.m;
      let N = uniforms.n;
      let K = uniforms.k;
      let b = i32(workgroupId.z);
      let m0 = i32(workgroupId.y) * ${t.tileM};
      let n0 = i32(workgroupId.x) * ${t.tileN};
      let bA = b % uniforms.batchA;
      let hA = uniforms.headsA;
      let aStride = ${transposeA ? 'M' : 'K'} * hA;
      let aBase = (bA / hA) * M * K * hA + (bA % hA) * ${transposeA ? 'M' : 'K'};
      let bB = b % uniforms.batchB;
      let hB = uniforms.headsB;
      let bStride = ${transposeB ? 'K' : 'N'} * hB;
      let bBase = (bB / hB) * K * N * hB + (bB % hB) * ${transposeB ? 'K' : 'N'};
      let hC = uniforms.headsC;
      let cStride = N * hC;
      let cBase = (b / hC) * M * N * hC + (b % hC) * N;`;
}

// WGSL text by shader key: built once, when a key is first compiled.
const codes = new Map<string, string>();

/**
 * A tiled matmul program: C [batch, m, n] from A, B and the epilogue's inputs, one workgroup per
 * tile. `build` writes the WGSL named by `shaderKey`; it runs only when tfjs compiles that key
 * (once), not on every dispatch: the unrolled vec4 text takes ~0.1 ms of host time to write.
 */
export function tiledProgram(t: MatMulTiling, batch: number, m: number, n: number, epilogue: Epilogue, shaderKey: string, build: () => string, components?: [number, number]): WebgpuProgram {
  return {
    outputShape: [batch, m, n],
    shaderKey,
    dispatchLayout: { x: [2], y: [1], z: [0] } as unknown as { x: number[] },
    dispatch: [Math.ceil(n / t.tileN), Math.ceil(m / t.tileM), batch],
    variableNames: ['A', 'B', ...epilogueInputs(epilogue)],
    ...(components === undefined ? {} : { variableComponents: [...components, ...epilogueInputs(epilogue).map(() => 1)] }),
    workgroupSize: [t.threadsX, t.threadsY, 1],
    uniforms: 'm : i32, n : i32, k : i32, batchA : i32, batchB : i32, headsA : i32, headsB : i32, headsC : i32,',
    getUserCode: () => {
      let code = codes.get(shaderKey);
      if (code === undefined) codes.set(shaderKey, (code = build()));
      return code;
    },
  };
}
