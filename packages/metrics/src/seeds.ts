/**
 * The spread of one figure over independent repeats (runs with different seeds): mean, sample
 * standard deviation and the Student-t 95% interval of the mean. A bootstrap over documents
 * (bootstrap.ts) says how sure one run's figure is on its documents; this says how much the
 * figure moves from one training seed to the next. No runtime imports: the report's browser
 * bundle shares it (`@sentencelab/metrics/seeds`), so a spread over seeds means the same there.
 */
import type { Interval } from './bootstrap.js';

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom (standard tables). */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** t(0.975, df): the table up to 30, then the first two terms of the Cornish-Fisher expansion around the normal 1.96 (within 0.001 above 30). */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new Error(`tQuantile975: degrees of freedom must be a positive integer, got ${df}`);
  if (df <= T975.length) return T975[df - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
}

export interface SeedSpread {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1); absent for one value. */
  sd?: number;
  /** 95% interval of the mean, mean ± t(0.975, n-1) sd / sqrt(n); absent for one value. */
  interval?: Interval;
}

/** Mean, sample sd and 95% t interval of `values` (finite numbers, one per seed); undefined when empty. */
export function seedSpread(values: readonly number[]): SeedSpread | undefined {
  const n = values.length;
  if (n === 0) return undefined;
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`seedSpread: values must be finite, got [${values.join(', ')}]`);
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const half = (tQuantile975(n - 1) * sd) / Math.sqrt(n);
  return { n, mean, sd, interval: { low: mean - half, high: mean + half } };
}
