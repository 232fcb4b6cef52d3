/**
 * An experiment's headline figures seed by seed: a row per seed, a column per point, so a reader
 * sees which seeds an average hides (one bad SentenceVAE, a model better in two seeds of three).
 */
import { formatCell, markdownTable } from '../table.js';
import { baselineNote, figureName, figureValue, meanSpread, pairedBaselines, pointName, type ResultPoint, type StageResults } from './points.js';

/** The figures shown seed by seed (eval keys), in this order, each in its own table. */
export const SEED_FIGURES: readonly { key: string; label: string }[] = [
  { key: 'ppl', label: 'PPL on the shared held-out tokens' },
  { key: 'ppl_ratio', label: "PPL over the eval baseline's, paired over the same documents" },
  { key: 'ppl_ratio_matched', label: "PPL over the compute-matched token LM's, paired over the same documents" },
  { key: 'recon_ppl', label: 'SentenceVAE reconstruction PPL (teacher-forced)' },
  { key: 'recon_noise_half', label: 'SentenceVAE: noise at which half of what the vector carries is lost' },
  { key: 'val_kl', label: 'SentenceVAE (variational): KL per sentence, nats' },
  { key: 'l2', label: 'concept head: L2 to the next sentence embedding' },
  { key: 'energy_score', label: 'concept head: energy score of two draws (a deterministic head: its L2)' },
  { key: 'energy_score_diff_train_dist', label: 'concept head: energy score minus that of sampling the training embeddings, paired over the same targets (below 0: a better distribution than no context)' },
  { key: 'energy_score_diff', label: "concept head: energy score minus the baseline head's, paired over the same targets (below 0: the better distribution)" },
  { key: 'spread_ratio', label: "concept head: distance between its two draws over their distance to the target (1: draws as spread as the targets' own distribution; below: too alike, 0 for a deterministic head; above: too scattered)" },
  { key: 'energy_score_posterior_diff_train_dist', label: "concept head over a variational SentenceVAE: energy score against a posterior draw of each target minus that of sampling the training posteriors, paired (below 0: a better distribution than no context)" },
  { key: 'energy_score_posterior_diff', label: "concept head over a variational SentenceVAE: energy score against a posterior draw of each target minus the baseline head's, paired (below 0: the better distribution)" },
  { key: 'energy_score_ahead_diff_train_dist', label: 'concept head two sentences ahead (its own draw of the sentence before as context): energy score minus that of sampling the training embeddings, paired over the same targets (below 0: still a better distribution than no context)' },
  { key: 'energy_score_ahead_diff_next', label: "concept head two sentences ahead: energy score minus its own one sentence ahead on the same targets, paired (above 0: reading its own draw costs it; below 0: its rollouts' spread suits the targets better than its one-step draws')" },
  { key: 'spread_ratio_ahead', label: 'concept head two sentences ahead: distance between its two rollouts over their distance to the target (as spread_ratio)' },
  { key: 'energy_score_ahead_diff', label: "concept head two sentences ahead: energy score minus the baseline head's, paired over the same targets (below 0: the better distribution)" },
  { key: 'energy_score_ahead_posterior_diff', label: "concept head over a variational SentenceVAE, two sentences ahead: energy score against a posterior draw of each target minus the baseline head's, paired (below 0: the better distribution)" },
  { key: 'contrastive_acc_diff', label: "concept head: contrastive accuracy minus the baseline head's, paired over the same targets (above 0: tells the true next sentence from the others better)" },
];

/**
 * For each of {@link SEED_FIGURES} that some point has from two seeds or more: a heading line and
 * a table with a row per seed (a cell per point that has the figure from that seed, '-' where it
 * has not) and a last row with each point's mean ± sd over its seeds. [] when no figure qualifies.
 */
export function seedTables(stages: readonly StageResults[]): string[] {
  const points = stages.flatMap((s) => s.points.map((p) => ({ p, name: pointName(p, s.points.length) })));
  const out: string[] = [];
  for (const { key, label } of SEED_FIGURES) {
    const columns = points.map(({ p, name }) => ({ p, name, bySeed: valuesBySeed(p, key) })).filter((c) => c.bySeed.size > 0);
    if (!columns.some((c) => c.bySeed.size >= 2)) continue;
    const seeds = [...new Set(columns.flatMap((c) => [...c.bySeed.keys()]))].sort((a, b) => a - b);
    const several = pairedBaselines(columns.map((c) => c.p), key).length > 1;
    out.push(
      '',
      `\`${figureName(columns.map((c) => c.p), key)}\`: ${label}`,
      '',
      markdownTable(
        // Columns compared with other baselines (headBaselines): each names its own.
        ['seed', ...columns.map((c) => (several ? [c.name, baselineNote(c.p, key)].filter(Boolean).join(' ') : c.name))],
        [
          ...seeds.map((seed) => [String(seed), ...columns.map((c) => (c.bySeed.has(seed) ? formatCell(c.bySeed.get(seed)) : '-'))]),
          ['mean ± sd', ...columns.map((c) => meanSpread([...c.bySeed.values()]))],
        ],
      ),
    );
  }
  return out;
}

/** The figure `key` of each of a point's runs that has it, by the run's seed. */
function valuesBySeed(p: ResultPoint, key: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of p.runs) {
    const v = figureValue(r, key);
    if (v !== undefined) out.set(r.meta.seed, v);
  }
  return out;
}
