/**
 * Reconstruction metrics on plain token arrays (no tensors): token accuracy, exact match,
 * per-token perplexity from log-probabilities, and corpus BLEU-4 with brevity penalty.
 *
 * Token arrays are compared as given: a caller that wants EOS to count appends it to the
 * reference and to every hypothesis that stopped on EOS (`reconstructionMetrics` does).
 */

export type Token = number | string;

/** One hypothesis/reference pair. */
export interface ReconstructionPair {
  hyp: readonly Token[];
  ref: readonly Token[];
}

/**
 * Position-wise token accuracy: the fraction of reference positions whose token the hypothesis
 * reproduces at the same position, summed over the corpus (a micro average).
 */
export function tokenAccuracy(pairs: readonly ReconstructionPair[]): number {
  let correct = 0;
  let total = 0;
  for (const { hyp, ref } of pairs) {
    for (let i = 0; i < ref.length; i++) if (hyp[i] === ref[i]) correct++;
    total += ref.length;
  }
  return total === 0 ? 0 : correct / total;
}

/** Fraction of pairs whose hypothesis equals the reference exactly (same tokens, same length). */
export function exactMatchRate(pairs: readonly ReconstructionPair[]): number {
  if (pairs.length === 0) return 0;
  let exact = 0;
  for (const { hyp, ref } of pairs) {
    if (hyp.length === ref.length && ref.every((t, i) => hyp[i] === t)) exact++;
  }
  return exact / pairs.length;
}

/**
 * Per-token perplexity exp(-sum(logProbs) / count) from natural-log probabilities.
 * Pass `sum` and `count` directly to combine batches exactly.
 */
export function perplexity(logProbSum: number, count: number): number {
  if (!(count > 0)) throw new Error(`perplexity: count must be > 0, got ${count}`);
  return Math.exp(-logProbSum / count);
}

function ngramCounts(tokens: readonly Token[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join('\u0001');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The parts of a corpus BLEU score, for reporting. */
export interface BleuResult {
  bleu: number;
  /** Clipped n-gram precisions p1..pN. */
  precisions: number[];
  brevityPenalty: number;
  hypLength: number;
  refLength: number;
}

/**
 * Corpus BLEU (Papineni et al. 2002) with one reference per hypothesis: clipped n-gram
 * counts summed over the corpus, geometric mean of p1..p`maxN` (uniform weights), brevity
 * penalty exp(1 - r/c) when the corpus hypothesis length c is below the reference length r.
 * No smoothing: any p_n = 0 gives BLEU 0, as in the original definition.
 */
export function corpusBleu(pairs: readonly ReconstructionPair[], maxN = 4): BleuResult {
  const matches = new Array<number>(maxN).fill(0);
  const totals = new Array<number>(maxN).fill(0);
  let hypLength = 0;
  let refLength = 0;
  for (const { hyp, ref } of pairs) {
    hypLength += hyp.length;
    refLength += ref.length;
    for (let n = 1; n <= maxN; n++) {
      const refCounts = ngramCounts(ref, n);
      for (const [gram, count] of ngramCounts(hyp, n)) {
        matches[n - 1]! += Math.min(count, refCounts.get(gram) ?? 0);
        totals[n - 1]! += count;
      }
    }
  }
  const precisions = matches.map((m, i) => (totals[i]! === 0 ? 0 : m / totals[i]!));
  const brevityPenalty = hypLength === 0 ? 0 : hypLength > refLength ? 1 : Math.exp(1 - refLength / hypLength);
  const bleu = precisions.some((p) => p === 0)
    ? 0
    : brevityPenalty * Math.exp(precisions.reduce((s, p) => s + Math.log(p), 0) / maxN);
  return { bleu, precisions, brevityPenalty, hypLength, refLength };
}
