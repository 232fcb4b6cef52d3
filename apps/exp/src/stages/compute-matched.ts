import type { Artifact } from './types.js';
import { countedFlops, flopBudgetOf } from '../pipeline/compute.js';

/**
 * How close a model's training FLOPs must be to a token LM's FLOP budget for that token LM to be
 * its compute-matched baseline without having been trained for it by name: 1%, closer than one
 * eval's run-to-run noise ever moves a PPL, and far closer than the 25% the matching warnings
 * allow. A budget is met to within one training step, so the model it was made for is matched
 * by name, not by this.
 */
export const MATCHED_FLOPS_TOLERANCE = 0.01;

/** A model's compute-matched token LM among the compared models. */
export interface ComputeMatch {
  /** The token-lm stage trained with `flopsOf`. */
  lm: string;
  /** The stage whose FLOPs that token LM was trained to (the model itself, or another with the same FLOPs). */
  budgetOf: string;
  /** The model's training FLOPs (with the stages it builds on) over the budget: 1 for the model matched by name. */
  ratio: number;
}

/**
 * Each model's compute-matched token LM: the token-lm trained with `flopsOf: <model>`, or, for a
 * model that spent the same FLOPs (within {@link MATCHED_FLOPS_TOLERANCE}, counted, with the
 * stages it builds on) as the budget some token-lm was trained to, that token LM: a variant of
 * the budget's stage (another seed of its SentenceVAE, a regulariser that adds no matrix
 * product) compares with the same baseline at the same compute. Token LMs trained to a budget
 * are not matched themselves; a model both by name and by FLOPs keeps the one by name.
 */
export function computeMatches(models: readonly Pick<Artifact, 'stage' | 'meta'>[]): Map<string, ComputeMatch> {
  const matches = new Map<string, ComputeMatch>();
  const budgets = models.flatMap((a) => {
    const b = flopBudgetOf(a);
    return b === undefined ? [] : [{ lm: a.stage, ...b }];
  });
  const budgeted = new Set(budgets.map((b) => b.lm));
  for (const b of budgets) {
    if (models.some((m) => m.stage === b.stage)) matches.set(b.stage, { lm: b.lm, budgetOf: b.stage, ratio: 1 });
  }
  for (const a of models) {
    if (matches.has(a.stage) || budgeted.has(a.stage)) continue;
    const flops = countedFlops(a);
    if (flops === null) continue;
    const near = budgets
      .map((b) => ({ b, ratio: flops / b.flops }))
      .filter(({ ratio }) => Math.abs(ratio - 1) <= MATCHED_FLOPS_TOLERANCE)
      .sort((x, y) => Math.abs(x.ratio - 1) - Math.abs(y.ratio - 1))[0];
    if (near) matches.set(a.stage, { lm: near.b.lm, budgetOf: near.b.stage, ratio: near.ratio });
  }
  return matches;
}
