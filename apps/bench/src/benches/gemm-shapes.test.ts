import { expect, test } from 'vitest';
import { groupCalls, parseArgs, shapeKey, shapeLabel } from './gemm-shapes.js';

const call = (batch: number, m: number, n: number, k: number, ta: boolean, tb: boolean, ms: number, aMatrices = batch, bMatrices = batch) =>
  ({ batch, m, n, k, transposeA: ta, transposeB: tb, aMatrices, bMatrices, ms, cpuMs: ms });

test('gemm-shapes options: defaults, sizes, reps; bad values name the option', () => {
  expect(parseArgs([])).toEqual({ sizes: ['medium', 'large'], reps: 5, threads: undefined, python: undefined, numpy: true, openblas: true });
  expect(parseArgs(['--sizes', 'tiny', '--reps', '3', '--threads', '1', '--no-numpy', '--no-openblas', '--python', '/p'])).toEqual({
    sizes: ['tiny'], reps: 3, threads: 1, python: '/p', numpy: false, openblas: false,
  });
  expect(() => parseArgs(['--sizes', 'huge'])).toThrow('--sizes takes a comma-separated list of tiny, medium, large; got "huge"');
  expect(() => parseArgs(['--reps', '0'])).toThrow('--reps must be a positive integer, got "0"');
  expect(() => parseArgs(['--fast'])).toThrow('unknown option "--fast"');
});

test('traced calls group by shape (transposes and broadcasts apart), costliest in the step first', () => {
  const uses = groupCalls([
    call(256, 256, 256, 64, false, true, 10),
    call(1, 8192, 512, 512, false, false, 4, 1, 1),
    call(256, 256, 256, 64, false, true, 12),
    call(256, 256, 256, 64, false, false, 1),
    call(4, 7, 9, 5, true, false, 30, 4, 1),
  ]);
  expect(uses.map((u) => [shapeKey(u), u.calls, u.stepMs])).toEqual([
    ['b4_7x9x5_tbn', 1, 30],
    ['b256_256x256x64_nt', 2, 22],
    ['b1_8192x512x512_nn', 1, 4],
    ['b256_256x256x64_nn', 1, 1],
  ]);
  expect(shapeLabel(uses[0]!)).toBe('4 x 7x5^T . 5x9(bcast)');
  expect(shapeLabel(uses[1]!)).toBe('256 x 256x64 . 64x256^T');
  expect(shapeLabel(uses[2]!)).toBe('8192x512 . 512x512');
});
