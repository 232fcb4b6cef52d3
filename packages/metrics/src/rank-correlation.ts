/**
 * Spearman's rank correlation: whether one figure orders a set of models as another does
 * (a SentenceVAE's reconstruction against its SLLM's perplexity, say), whatever the scale of
 * either. Ties share the mean of their ranks.
 */
import { tQuantile975 } from './seeds.js';

/** 1-based ranks of `values`, ties given the mean of the ranks they span: [10, 30, 20, 20] -> [1, 4, 2.5, 2.5]. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && order[end]![0] === order[start]![0]) end++;
    // Positions start..end-1 hold equal values: ranks start+1..end, each gets their mean.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) out[order[k]![1]] = rank;
    start = end;
  }
  return out;
}

/**
 * Spearman's rho of paired values: the Pearson correlation of their ranks, in [-1, 1]; +1 when
 * `b` rises wherever `a` does. Undefined with fewer than 3 pairs or where either side has a
 * single value (every rank tied: no order to compare).
 */
export function spearman(a: readonly number[], b: readonly number[]): number | undefined {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} values against ${b.length}; the two sides must pair up`);
  if ([...a, ...b].some((v) => !Number.isFinite(v))) throw new Error('spearman: values must be finite numbers');
  if (a.length < 3) return undefined;
  const [ra, rb] = [ranks(a), ranks(b)];
  const mean = (a.length + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const [da, db] = [ra[i]! - mean, rb[i]! - mean];
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? undefined : sab / Math.sqrt(saa * sbb);
}

/**
 * The smallest |rho| that tells a rank correlation of `n` pairs from none at the two-sided 5%
 * level, by the t approximation (t = rho sqrt((n - 2) / (1 - rho^2)) with n - 2 degrees of
 * freedom): t / sqrt(n - 2 + t^2). About 0.95 at 4 pairs, 0.67 at 9, 0.58 at 12: a handful of
 * seeds tells a strong ordering from chance and nothing weaker. Undefined below 4 pairs.
 */
export function spearmanCritical(n: number): number | undefined {
  if (!Number.isInteger(n) || n < 4) return undefined;
  const t = tQuantile975(n - 2);
  return t / Math.sqrt(n - 2 + t * t);
}
