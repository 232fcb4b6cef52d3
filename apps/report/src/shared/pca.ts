/**
 * Principal component analysis for the embedding view, small enough to run in the browser on a
 * few hundred vectors of a few hundred dims: subspace iteration on the covariance (applied as
 * Xᵀ(X v), never formed: n·d per product instead of d² memory), then a Rayleigh-Ritz step that
 * turns the converged subspace into the principal axes themselves.
 */

export interface Pca {
  /** The mean that was subtracted: [dim]. */
  mean: number[];
  /** Principal axes, unit length, largest variance first: [k][dim]. */
  components: number[][];
  /** Sample variance (n - 1 denominator) along each axis: [k]. */
  variance: number[];
  /** Share of the total variance along each axis: [k]. */
  explained: number[];
}

const MAX_ITERATIONS = 500;
const TOLERANCE = 1e-12;

/** The top `k` principal axes of `rows` ([n][dim], n >= 1). Deterministic: no random start, signs fixed (see {@link fixSign}). */
export function pca(rows: readonly (readonly number[])[], k = 2): Pca {
  const n = rows.length;
  if (n === 0) throw new Error('pca: no vectors');
  const dim = rows[0]!.length;
  rows.forEach((r, i) => {
    if (r.length !== dim) throw new Error(`pca: vector ${i} has ${r.length} dims, vector 0 has ${dim}`);
  });
  const mean = new Array<number>(dim).fill(0);
  for (const r of rows) r.forEach((x, j) => (mean[j]! += x / n));
  const centered = rows.map((r) => r.map((x, j) => x - mean[j]!));
  const total = centered.reduce((s, r) => s + dot(r, r), 0) / Math.max(n - 1, 1);
  const m = Math.min(k, dim);
  // covariance · v = Xᵀ (X v) / (n - 1)
  const cov = (v: number[]): number[] => {
    const out = new Array<number>(dim).fill(0);
    for (const r of centered) {
      const a = dot(r, v);
      if (a !== 0) r.forEach((x, j) => (out[j]! += a * x));
    }
    return out.map((x) => x / Math.max(n - 1, 1));
  };
  // A fixed start that no axis is orthogonal to in practice (irrational-looking, all non-zero).
  let basis = orthonormalize(Array.from({ length: m }, (_, c) => Array.from({ length: dim }, (_, j) => Math.sin(1 + j * 1.618 + c * 2.718) + 1.1 * (j === c ? 1 : 0))));
  for (let it = 0; it < MAX_ITERATIONS; it++) {
    const next = orthonormalize(basis.map(cov));
    // Converged when the new basis spans the old one: every old vector keeps its length in it.
    const moved = Math.max(...basis.map((v) => 1 - next.reduce((s, w) => s + dot(v, w) ** 2, 0)));
    basis = next;
    if (moved < TOLERANCE) break;
  }
  // Rayleigh-Ritz: the covariance restricted to the subspace, diagonalised.
  const images = basis.map(cov);
  const h = basis.map((v) => images.map((w) => dot(v, w)));
  const { values, vectors } = symmetricEigen(h);
  const order = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]!);
  const components = order.map((i) => fixSign(basis[0]!.map((_, j) => basis.reduce((s, v, c) => s + v[j]! * vectors[c]![i]!, 0))));
  const variance = order.map((i) => Math.max(values[i]!, 0));
  return { mean, components, variance, explained: variance.map((v) => (total > 0 ? v / total : 0)) };
}

/** Coordinates of `v` along the axes of `p`: [k]. */
export function project(p: Pca, v: readonly number[]): number[] {
  if (v.length !== p.mean.length) throw new Error(`pca: projecting a vector of ${v.length} dims onto axes of ${p.mean.length}`);
  return p.components.map((c) => c.reduce((s, x, j) => s + x * (v[j]! - p.mean[j]!), 0));
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Gram-Schmidt (twice, for stability); a vector with nothing left is replaced by a unit axis orthogonal to the others. */
function orthonormalize(vs: number[][]): number[][] {
  const out: number[][] = [];
  for (const v of vs) {
    let w = [...v];
    for (let pass = 0; pass < 2; pass++) for (const u of out) w = sub(w, u, dot(w, u));
    let norm = Math.sqrt(dot(w, w));
    for (let axis = 0; norm < 1e-12 && axis < v.length; axis++) {
      w = v.map((_, j) => (j === axis ? 1 : 0));
      for (const u of out) w = sub(w, u, dot(w, u));
      norm = Math.sqrt(dot(w, w));
    }
    out.push(w.map((x) => x / norm));
  }
  return out;
}

function sub(a: number[], b: number[], scale: number): number[] {
  return a.map((x, i) => x - scale * b[i]!);
}

/** The sign that makes the axis's largest-magnitude entry (the first of equals) positive, so reruns agree. */
function fixSign(v: number[]): number[] {
  let best = 0;
  v.forEach((x, i) => {
    if (Math.abs(x) > Math.abs(v[best]!) + 1e-12) best = i;
  });
  return v[best]! < 0 ? v.map((x) => -x) : v;
}

/** Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations: vectors[row][i] is eigenvector i. */
export function symmetricEigen(matrix: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = matrix.map((r) => [...r]);
  const v: number[][] = a.map((_, i) => a.map((__, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p]![q]!) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: a.map((r, i) => r[i]!), vectors: v };
}
