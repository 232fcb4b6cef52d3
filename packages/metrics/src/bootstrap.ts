/**
 * Uncertainty of an eval figure from the few documents it was measured on: a percentile
 * bootstrap over documents. Every figure in the eval table is a ratio of sums over documents
 * (PPL = exp(-Σ log p / Σ tokens), L2 = Σ distances / Σ targets, accuracy = Σ correct / Σ
 * judged), so one resampler serves all of them: documents are drawn with replacement, the
 * sums recomputed, the statistic taken, and the central `level` share of the resampled values
 * kept. Seeded: the same inputs give the same interval. One document has nothing to resample:
 * every resample is that document, and the "interval" would be the figure itself, a width of
 * 0 that reads as certainty; so there is no interval (undefined) below two documents.
 */
import { quantile, Rng } from '@sentencelab/tensor';

/** One document's contribution to a ratio-of-sums figure. */
export interface DocumentSums {
  num: number;
  den: number;
}

export interface Interval {
  low: number;
  high: number;
}

export interface BootstrapOptions {
  /** Resamples of the documents. Default 1000. */
  resamples?: number;
  /** Seed of the resampling draws. Default 0. */
  seed?: number;
  /** Central share kept. Default 0.95. */
  level?: number;
  /** Maps the ratio Σ num / Σ den to the figure (e.g. PPL: r => exp(-r)). Default identity. */
  transform?: (ratio: number) => number;
}

/** Documents an interval needs: with one, every resample is that document. */
export const MIN_INTERVAL_DOCUMENTS = 2;

/**
 * Percentile-bootstrap interval of `transform(Σ num / Σ den)` over documents. Resamples whose
 * Σ den is 0 (every drawn document contributed nothing) are skipped. Undefined when fewer than
 * two documents contribute (den > 0); throws when there are none, or none contributes.
 */
export function bootstrapRatio(docs: readonly DocumentSums[], options: BootstrapOptions = {}): Interval | undefined {
  if (docs.length === 0) throw new Error('bootstrapRatio: no documents');
  const contributing = docs.filter((d) => d.den > 0).length;
  if (contributing === 0) throw new Error('bootstrapRatio: every document has den 0, so the figure is undefined');
  if (contributing < MIN_INTERVAL_DOCUMENTS) return undefined;
  const transform = options.transform ?? ((r: number) => r);
  return bootstrap(docs, (sample) => ratioOfSums(sample, transform), options);
}

/** `transform(Σ num / Σ den)` over documents; NaN when Σ den is 0. */
function ratioOfSums(docs: Iterable<DocumentSums>, transform: (ratio: number) => number): number {
  let num = 0;
  let den = 0;
  for (const d of docs) {
    num += d.num;
    den += d.den;
  }
  return den === 0 ? Number.NaN : transform(num / den);
}

/**
 * Percentile-bootstrap interval of any statistic of documents (for figures that are not one
 * ratio of sums, e.g. BrierLM's geometric mean). Resamples whose statistic is NaN are skipped.
 * Undefined for a single document.
 */
export function bootstrap<T>(docs: readonly T[], statistic: (sample: readonly T[]) => number, options: Omit<BootstrapOptions, 'transform'> = {}): Interval | undefined {
  return bootstrapEach(docs, (sample) => [statistic(sample)], options)?.[0];
}

/**
 * Percentile-bootstrap intervals of several statistics of the same resamples, in the order
 * `statistics` returns them (each one's NaN values skipped on its own): one pass over the draws
 * where figures share their work (BrierLM and Brier-1 from one `brierLm` per resample). The
 * draws are those {@link bootstrap} makes with the same options. Undefined for a single document.
 */
export function bootstrapEach<T>(docs: readonly T[], statistics: (sample: readonly T[]) => readonly number[], options: Omit<BootstrapOptions, 'transform'> = {}): Interval[] | undefined {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  if (docs.length === 0) throw new Error('bootstrap: no documents');
  if (docs.length < MIN_INTERVAL_DOCUMENTS) return undefined;
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new Error(`bootstrap: resamples must be an integer >= 1, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap: level must be in (0, 1), got ${level}`);
  const rng = new Rng(options.seed ?? 0);
  const n = docs.length;
  const values: number[][] = [];
  const sample: T[] = new Array<T>(n);
  for (let r = 0; r < resamples; r++) {
    for (let k = 0; k < n; k++) sample[k] = docs[rng.int(n)]!;
    statistics(sample).forEach((v, i) => {
      const own = (values[i] ??= []);
      if (!Number.isNaN(v)) own.push(v);
    });
  }
  const tail = (1 - level) / 2;
  return values.map((own) => {
    if (own.length === 0) throw new Error('bootstrap: every resample gave NaN, so the figure is undefined');
    own.sort((a, b) => a - b);
    return { low: quantile(own, tail), high: quantile(own, 1 - tail) };
  });
}

/**
 * Paired percentile-bootstrap interval of figure(a) / figure(b) for two models scored on the same
 * documents (`a[i]` and `b[i]` are document i), each figure `transform(Σ num / Σ den)` (PPL:
 * r => exp(-r)). Every resample draws the same documents for both, so what the documents share
 * (a hard document is hard for every model) cancels in the ratio: two separate intervals that
 * overlap can still come with a ratio interval that excludes 1. Undefined below two documents.
 */
export function pairedBootstrapRatio(a: readonly DocumentSums[], b: readonly DocumentSums[], options: BootstrapOptions = {}): Interval | undefined {
  if (a.length !== b.length) throw new Error(`pairedBootstrapRatio: ${a.length} documents for one model but ${b.length} for the other: a paired interval needs the same documents`);
  if (a.filter((d, i) => d.den > 0 || b[i]!.den > 0).length < MIN_INTERVAL_DOCUMENTS) return undefined;
  const transform = options.transform ?? ((r: number) => r);
  const indices = a.map((_, i) => i);
  return bootstrap(indices, (sample) => ratioOfSums(sample.map((i) => a[i]!), transform) / ratioOfSums(sample.map((i) => b[i]!), transform), options);
}

/**
 * Whether two intervals share a point: taken model by model, these documents do not resolve the
 * difference (for two models scored on the same documents, {@link pairedBootstrapRatio} may).
 */
export function intervalsOverlap(a: Interval, b: Interval): boolean {
  return a.low <= b.high && b.low <= a.high;
}

/** `[low, high]` with the figure's own precision. */
export function formatInterval(i: Interval, digits: number): string {
  return `[${i.low.toFixed(digits)}, ${i.high.toFixed(digits)}]`;
}
