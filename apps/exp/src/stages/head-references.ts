/**
 * The concept heads' reference predictors (the LCM paper's baselines; not the baseline head a
 * head is paired with, `headBaselines`) as rows of their tables rather than columns of every
 * head's row:
 * copy-previous (the previous sentence's embedding as the prediction), the training mean, and
 * sampling the training distribution (two training embeddings drawn at random). Each head's
 * stage scores them on its own targets, so heads over the same SentenceVAE and test documents
 * carry the same figures: one row for all of them. Heads whose references differ (another
 * SentenceVAE) get a row each, named after the heads it is the reference of.
 */
import { intervalKeys, type EvalKey } from '@sentencelab/runs';
import type { ModelResult } from './eval.js';

/** A reference row: its name, and which stored figure of the heads' becomes which column. */
const REFERENCES: readonly { name: string; figures: readonly (readonly [from: EvalKey, as: EvalKey])[] }[] = [
  { name: 'copy-previous', figures: [['l2_copy_prev', 'l2'], ['contrastive_acc_copy_prev', 'contrastive_acc']] },
  { name: 'training mean', figures: [['l2_train_mean', 'l2'], ['contrastive_acc_train_mean', 'contrastive_acc']] },
  {
    name: 'training dist.',
    figures: [
      ['energy_score_train_dist', 'energy_score'],
      ['spread_ratio_train_dist', 'spread_ratio'],
      ['energy_score_posterior_train_dist', 'energy_score_posterior'],
      ['spread_ratio_posterior_train_dist', 'spread_ratio_posterior'],
      ['energy_score_ahead_train_dist', 'energy_score_ahead'],
    ],
  },
];

/** The kind printed for a reference row (the LCM paper calls them baselines). */
export const REFERENCE_KIND = 'baseline';

/** The heads' stored figures that {@link headReferenceRows} turns into rows (not columns of the heads' tables). */
export const HEAD_REFERENCE_KEYS: ReadonlySet<EvalKey> = new Set(REFERENCES.flatMap((b) => b.figures.map(([from]) => from)));

/**
 * The reference rows of `heads` (each head's results as the eval stores them): each reference's
 * figures, with their 95% intervals, under the column of the head's figure they compare with
 * (copy-previous's L2 under L2). One row per reference where every head has the same figures,
 * else one per distinct set, `copy-previous (of mse, energy)`; none for a reference no head has.
 */
export function headReferenceRows(heads: readonly ModelResult[]): ModelResult[] {
  return REFERENCES.flatMap(({ name, figures }) => {
    const groups = new Map<string, { results: Record<string, number>; stages: string[] }>();
    for (const head of heads) {
      const results: Record<string, number> = {};
      for (const [from, as] of figures) {
        const [low, high] = [intervalKeys(from), intervalKeys(as)];
        for (const [src, dst] of [[from, as], [low.low, high.low], [low.high, high.high]] as const) {
          const v = head.results[src];
          if (v !== undefined) results[dst] = v;
        }
      }
      if (Object.keys(results).length === 0) continue;
      const key = JSON.stringify(Object.entries(results).sort(([a], [b]) => a.localeCompare(b)));
      const group = groups.get(key) ?? { results, stages: [] };
      group.stages.push(head.stage);
      groups.set(key, group);
    }
    return [...groups.values()].map((g) => ({ stage: groups.size === 1 ? name : `${name} (of ${g.stages.join(', ')})`, kind: REFERENCE_KIND, results: g.results }));
  });
}
