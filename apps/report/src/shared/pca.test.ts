import { describe, expect, test } from 'vitest';
import { pca, project, symmetricEigen } from './pca.js';

const close = (a: number[], b: number[], digits = 9) => a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, digits));

describe('pca', () => {
  test('a hand-computed example: centred, two axes, variances, explained shares, projections', () => {
    // (2,2), (-2,-2), (1,-1), (-1,1) shifted by (10, -5), with a constant third coordinate.
    // Covariance (n - 1 = 3) = [[10, 6, 0], [6, 10, 0], [0, 0, 0]] / 3: eigenvalues 16/3 along
    // (1, 1, 0)/√2 and 4/3 along (1, -1, 0)/√2; shares 0.8 and 0.2.
    const rows = [
      [12, -3, 7],
      [8, -7, 7],
      [11, -6, 7],
      [9, -4, 7],
    ];
    const p = pca(rows);
    close(p.mean, [10, -5, 7]);
    close(p.variance, [16 / 3, 4 / 3]);
    close(p.explained, [0.8, 0.2]);
    const r = Math.SQRT1_2;
    close(p.components[0]!, [r, r, 0]);
    close(p.components[1]!, [r, -r, 0]);
    close(project(p, rows[0]!), [2 * Math.SQRT2, 0]);
    close(project(p, rows[1]!), [-2 * Math.SQRT2, 0]);
    close(project(p, rows[2]!), [0, Math.SQRT2]);
    close(project(p, rows[3]!), [0, -Math.SQRT2]);
  });

  test('on random data: orthonormal axes, the projections have the reported variances, and no direction beats the first axis', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const scales = [5, 3, 1, 0.5, 0.2, 0.1];
    const rows = Array.from({ length: 80 }, () => scales.map((s) => s * rand()));
    const p = pca(rows);
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(dot(p.components[0]!, p.components[0]!)).toBeCloseTo(1, 9);
    expect(dot(p.components[1]!, p.components[1]!)).toBeCloseTo(1, 9);
    expect(dot(p.components[0]!, p.components[1]!)).toBeCloseTo(0, 9);
    const coords = rows.map((v) => project(p, v));
    for (const axis of [0, 1]) expect(coords.reduce((s, c) => s + c[axis]! ** 2, 0) / (rows.length - 1)).toBeCloseTo(p.variance[axis]!, 6);
    const varianceAlong = (u: number[]) => rows.reduce((s, v) => s + dot(u, v.map((x, j) => x - p.mean[j]!)) ** 2, 0) / (rows.length - 1);
    for (let t = 0; t < 50; t++) {
      const u = scales.map(() => rand());
      const n = Math.sqrt(dot(u, u));
      expect(varianceAlong(u.map((x) => x / n))).toBeLessThanOrEqual(p.variance[0]! + 1e-9);
    }
    // The same as diagonalising the explicitly formed covariance matrix.
    const centred = rows.map((v) => v.map((x, j) => x - p.mean[j]!));
    const cov = scales.map((_, i) => scales.map((__, j) => centred.reduce((s, v) => s + v[i]! * v[j]!, 0) / (rows.length - 1)));
    const full = symmetricEigen(cov);
    const top = [...full.values].sort((a, b) => b - a);
    close(p.variance, top.slice(0, 2), 6);
  });

  test('degenerate input: one vector, identical vectors, one dimension', () => {
    expect(pca([[1, 2, 3]]).variance).toEqual([0, 0]);
    const same = pca([[1, 1], [1, 1], [1, 1]]);
    expect(same.explained).toEqual([0, 0]);
    expect(project(same, [1, 1])).toEqual([0, 0]);
    const line = pca([[1], [3], [5]]);
    expect(line.components).toEqual([[1]]);
    close(line.variance, [4]);
    expect(() => pca([[1, 2], [3]])).toThrow('pca: vector 1 has 1 dims, vector 0 has 2');
  });
});
