/**
 * Sentences of a batch grouped by length, so that the encoder and the teacher-forced decoder pad
 * each group to its own longest sentence instead of the whole batch to the batch's longest.
 *
 * Each sentence is encoded and decoded on its own (attention never crosses sentences, padding is
 * masked), so the grouping changes no result beyond the last bits of a sum; it removes the work
 * on padding, which on Brown clauses (14 tokens on average, up to 64) was four fifths of every
 * position-wise product of a 256-sentence batch: the time and the counted FLOPs of the
 * SentenceVAE's and the SLLM's steps.
 */
import type { SentenceTokens } from './batch.js';

export interface LengthGroupOptions {
  /** Most groups (each runs the stack once more: more kernel calls). */
  maxGroups?: number;
  /** What one more group costs, in padded token positions (its kernel calls' overhead). */
  groupCost?: number;
}

/**
 * Sentence indices in groups of similar length: each group is the sentences whose lengths fall
 * in one range of the sorted lengths, the ranges chosen to minimise the padded positions
 * (sentences x the group's longest) plus `groupCost` a group. Groups come shortest first, each
 * with its indices ascending; one group (all of them) where grouping saves nothing.
 * lengths: [n] token counts (>= 1).
 */
export function lengthGroups(lengths: ArrayLike<number>, { maxGroups = 4, groupCost = 256 }: LengthGroupOptions = {}): Int32Array[] {
  const n = lengths.length;
  // Distinct lengths ascending with their counts: the cost depends on lengths only (<= maxTokens of them).
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) counts.set(lengths[i]!, (counts.get(lengths[i]!) ?? 0) + 1);
  const distinct = [...counts.keys()].sort((a, b) => a - b);
  const D = distinct.length;
  const before = new Float64Array(D + 1); // sentences shorter than distinct[j]
  for (let j = 0; j < D; j++) before[j + 1] = before[j]! + counts.get(distinct[j]!)!;
  // best[g][j]: least cost of the first j distinct lengths in g groups; cut[g][j]: where its last group starts.
  const G = Math.max(1, Math.min(maxGroups, D));
  const best = Array.from({ length: G + 1 }, () => new Float64Array(D + 1).fill(Infinity));
  const cut = Array.from({ length: G + 1 }, () => new Int32Array(D + 1));
  best[0]![0] = 0;
  for (let g = 1; g <= G; g++) {
    for (let j = 1; j <= D; j++) {
      for (let i = g - 1; i < j; i++) {
        const c = best[g - 1]![i]! + (before[j]! - before[i]!) * distinct[j - 1]! + groupCost;
        if (c < best[g]![j]!) {
          best[g]![j] = c;
          cut[g]![j] = i;
        }
      }
    }
  }
  let groups = 1;
  for (let g = 2; g <= G; g++) if (best[g]![D]! < best[groups]![D]!) groups = g;
  // Upper length bound of each group, shortest first.
  const bounds: number[] = [];
  for (let g = groups, j = D; g >= 1; g--) {
    bounds.unshift(distinct[j - 1]!);
    j = cut[g]![j]!;
  }
  if (bounds.length === 1) return [Int32Array.from({ length: n }, (_, i) => i)];
  const members: number[][] = bounds.map(() => []);
  for (let i = 0; i < n; i++) members[bounds.findIndex((b) => lengths[i]! <= b)]!.push(i);
  return members.map((m) => Int32Array.from(m));
}

/** The sentences `indices` of `batch`, in that order, padded to their own longest. */
export function selectSentences(batch: SentenceTokens, indices: ArrayLike<number>): SentenceTokens {
  let longest = 0;
  for (let k = 0; k < indices.length; k++) longest = Math.max(longest, batch.lengths[indices[k]!]!);
  const tokens = new Int32Array(indices.length * longest);
  const lengths = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    lengths[k] = batch.lengths[i]!;
    tokens.set(batch.tokens.subarray(i * batch.maxLen, i * batch.maxLen + longest), k * longest);
  }
  return { tokens, lengths, n: indices.length, maxLen: longest };
}

/** Where each original index landed in the groups laid end to end: inverse[i] = position of sentence i. */
export function groupedPositions(groups: readonly Int32Array[], n: number): Int32Array {
  const inverse = new Int32Array(n);
  let at = 0;
  for (const g of groups) for (const i of g) inverse[i] = at++;
  return inverse;
}
