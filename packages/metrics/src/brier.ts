/**
 * BrierLM (CALM, arXiv 2510.27688), a likelihood-free score: it needs only two samples from a
 * model per prediction, so token LMs, sentence LLMs and concept heads decoded through the
 * SentenceVAE decoder are rated on the same footing. For one prediction with target y and two
 * independent samples x1, x2 of the model's distribution P,
 *   I[x1 = y] + I[x2 = y] - I[x1 = x2]
 * is an unbiased estimate of the Brier score 2 P(y) - Σ_x P(x)² (a strictly proper score:
 * its expectation is highest for the true distribution). Brier-n compares the first n tokens;
 * BrierLM = 100 x the geometric mean of the mean Brier-1..4.
 *
 * Here each prediction is "the next sentence": y is that sentence's ids followed by its EOS,
 * and a sample is a model's continuation of the same context (its first tokens, ending with
 * EOS when the sentence ended within them). CALM scores n-grams at every position; we score
 * the sentence-initial n-gram of every held-out next sentence, the one unit every family can
 * predict.
 */
import { bootstrapEach } from './bootstrap.js';

/** BrierLM compares the first BRIER_TOKENS ids of each prediction (Brier-1..4, as in CALM). */
export const BRIER_TOKENS = 4;

/** One prediction: the target ids (the sentence and its EOS) and two samples. */
export interface BrierItem {
  target: readonly number[];
  samples: readonly [readonly number[], readonly number[]];
}

function samePrefix(a: readonly number[], b: readonly number[], n: number): boolean {
  // Sequences shorter than n are compared whole: their EOS is part of them.
  const la = Math.min(a.length, n);
  if (la !== Math.min(b.length, n)) return false;
  for (let i = 0; i < la; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The unbiased Brier-n estimate of one item: I[x1 = y] + I[x2 = y] - I[x1 = x2] on the first n ids. */
export function brierEstimate(item: BrierItem, n: number): number {
  const [x1, x2] = item.samples;
  return (samePrefix(x1, item.target, n) ? 1 : 0) + (samePrefix(x2, item.target, n) ? 1 : 0) - (samePrefix(x1, x2, n) ? 1 : 0);
}

export interface BrierLmResult {
  /** 100 x geometric mean of the mean Brier-n, n = 1..maxN (0 when a mean Brier-n is <= 0). */
  score: number;
  /** Mean Brier-n for n = 1..maxN. */
  byN: number[];
  items: number;
}

/**
 * BrierLM over items. A mean Brier-n at or below 0 (no better than confidently wrong) makes
 * the geometric mean 0 rather than undefined. Needs >= 1 item.
 */
export function brierLm(items: readonly BrierItem[], maxN = BRIER_TOKENS): BrierLmResult {
  if (items.length === 0) throw new Error('brierLm: no items');
  const byN = Array.from({ length: maxN }, (_, k) => items.reduce((a, it) => a + brierEstimate(it, k + 1), 0) / items.length);
  const score = byN.some((b) => b <= 0) ? 0 : 100 * Math.exp(byN.reduce((a, b) => a + Math.log(b), 0) / maxN);
  return { score, byN, items: items.length };
}

/**
 * How many items of each group fit in `limit`: as even a share of every group as its size
 * allows (a group smaller than its share gives the rest to the others, in order):
 * counts [10, 2, 6], limit 8 -> [3, 2, 3].
 */
export function spreadQuota(counts: readonly number[], limit: number): number[] {
  const quota = counts.map(() => 0);
  let left = Math.min(limit, counts.reduce((a, c) => a + c, 0));
  let open = counts.flatMap((c, i) => (c > 0 ? [i] : []));
  while (left > 0 && open.length > 0) {
    const share = Math.max(1, Math.floor(left / open.length));
    for (const i of open) {
      const add = Math.min(share, counts[i]! - quota[i]!, left);
      quota[i]! += add;
      left -= add;
      if (left === 0) break;
    }
    open = open.filter((i) => quota[i]! < counts[i]!);
  }
  return quota;
}

/**
 * Which items to score when only `limit` of them fit: each group's {@link spreadQuota}, evenly
 * spaced within the group. Taking the first `limit` items instead puts them in one or two long
 * documents, where a bootstrap over documents has nothing to resample. Returns each group's
 * chosen indices, ascending: counts [10, 2, 6], limit 8 -> [[1, 5, 8], [0, 1], [1, 3, 5]].
 */
export function spreadPicks(counts: readonly number[], limit: number): number[][] {
  // floor((j + 0.5) c / q): q distinct indices in 0..c-1, centred in equal strides.
  return spreadQuota(counts, limit).map((q, i) => Array.from({ length: q }, (_, j) => Math.floor(((j + 0.5) * counts[i]!) / q)));
}

/**
 * BrierLM and Brier-1 over items grouped by document, each with a 95% bootstrap interval over
 * the documents (documents without items are left out; no interval when one document has items). As `summary.json` eval keys.
 */
export function brierFigures(itemsByDocument: readonly (readonly BrierItem[])[], options: { resamples?: number; seed?: number } = {}): Record<string, number> {
  const used = itemsByDocument.filter((i) => i.length > 0);
  const all = brierLm(used.flat());
  const [lm, first] = bootstrapEach(used, (sample) => {
    const r = brierLm(sample.flat());
    return [r.score, r.byN[0]!];
  }, options) ?? [];
  return {
    brier_lm: all.score,
    ...(lm ? { brier_lm_ci_low: lm.low, brier_lm_ci_high: lm.high } : {}),
    brier_1: all.byN[0]!,
    ...(first ? { brier_1_ci_low: first.low, brier_1_ci_high: first.high } : {}),
    brier_sentences: all.items,
  };
}

/** Whether two models' items (grouped by document) are the same next sentences: as many per document, the same targets in order. */
export function sameBrierItems(a: readonly (readonly BrierItem[])[], b: readonly (readonly BrierItem[])[]): boolean {
  return a.length === b.length && a.every((items, d) => items.length === b[d]!.length && items.every((item, i) => item.target.join() === b[d]![i]!.target.join()));
}

/**
 * Paired differences a - b of BrierLM and Brier-1 between two models rated on the same items
 * (`a[d][i]` and `b[d][i]` are the same next sentence of document d), each with a 95% bootstrap
 * interval over documents that draws the same documents for both models, so what the documents
 * share cancels. As `summary.json` eval keys: `brier_lm_diff`, `brier_1_diff` (+ `_ci_low` /
 * `_ci_high`; none when one document has items).
 */
export function pairedBrierDifferences(a: readonly (readonly BrierItem[])[], b: readonly (readonly BrierItem[])[], options: { resamples?: number; seed?: number } = {}): Record<string, number> {
  if (!sameBrierItems(a, b)) {
    throw new Error(`pairedBrierDifferences: the two models were rated on different items (${a.map((i) => i.length).join('/')} vs ${b.map((i) => i.length).join('/')} per document, or other targets)`);
  }
  const used = a.flatMap((items, d) => (items.length > 0 ? [d] : []));
  const figures = (docs: readonly number[]) => {
    const [x, y] = [brierLm(docs.flatMap((d) => a[d]!)), brierLm(docs.flatMap((d) => b[d]!))];
    return { lm: x.score - y.score, first: x.byN[0]! - y.byN[0]! };
  };
  const all = figures(used);
  const [lm, first] = bootstrapEach(used, (sample) => {
    const f = figures(sample);
    return [f.lm, f.first];
  }, options) ?? [];
  return {
    brier_lm_diff: all.lm,
    ...(lm ? { brier_lm_diff_ci_low: lm.low, brier_lm_diff_ci_high: lm.high } : {}),
    brier_1_diff: all.first,
    ...(first ? { brier_1_diff_ci_low: first.low, brier_1_diff_ci_high: first.high } : {}),
  };
}

/** A sampled continuation as BrierLM compares it: the tokens, then EOS when the sentence ended within `maxTokens`. */
export function brierSample(sentence: readonly number[], maxTokens: number, eos: number): number[] {
  return sentence.length < maxTokens ? [...sentence, eos] : sentence.slice(0, maxTokens);
}
