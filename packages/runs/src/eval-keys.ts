/**
 * The `summary.json` `eval` keys and their interval keys: plain data and string functions with
 * no imports, so that the report's browser bundle can share them (`@sentencelab/runs/eval-keys`).
 */

/**
 * The `eval` figures: the one list of their keys in `summary.json` `eval` (the contract between
 * `apps/exp`, which writes them, and `apps/report`, which reads them), with the eval table's
 * header for each and whether a 95% bootstrap interval over documents is stored beside it
 * (as `<key>_ci_low` / `<key>_ci_high`).
 */
export const EVAL_METRICS = [
  { key: 'params', label: 'params', meaning: 'trainable parameter count', interval: false },
  { key: 'training_tflop', label: 'train TFLOP', meaning: 'matrix-product FLOPs (in 10^12) of its training steps, forward and backward, the stages it builds on included (an SLLM\'s SentenceVAE): the same on any machine or backend; absent where a stage did not count them', interval: false },
  { key: 'ppl', label: 'PPL', meaning: 'perplexity on the shared held-out tokens (sentences 2..N + EOS)', interval: true },
  { key: 'ppl_ratio', label: 'PPL / baseline', meaning: 'PPL divided by the eval baseline\'s (ppl_ratio_baseline) over the same tokens, with a paired 95% bootstrap interval over documents (the same documents drawn for both models, so what they share cancels)', interval: true },
  {
    key: 'ppl_ratio_matched',
    label: 'PPL / compute-matched',
    meaning:
      "PPL divided by that of the token LM trained with this model's training FLOPs (the token-lm stage with input flopsOf: this one, or trained to another stage's FLOPs that this model's are within 1% of; named in ppl_ratio_matched_baseline) over the same tokens, with a paired 95% bootstrap interval over documents",
    interval: true,
  },
  { key: 'ppl_tokens', label: 'PPL tokens', meaning: 'tokens that PPL was scored on', interval: false },
  { key: 'bits_per_byte', label: 'bits/byte', meaning: 'loss over the scored tokens (EOS included) per UTF-8 byte of their text, in bits: comparable across tokenizers and units, where PPL per token is not', interval: true },
  { key: 'ppl_bytes', label: 'bytes', meaning: 'UTF-8 bytes of the text PPL was scored on', interval: false },
  { key: 'context_tokens_mean', label: 'ctx tokens', meaning: 'mean context tokens behind each scored sentence', interval: false },
  { key: 'context_tokens_min', label: 'ctx min', meaning: 'fewest context tokens behind a scored sentence', interval: false },
  { key: 'context_tokens_max', label: 'ctx max', meaning: 'most context tokens behind a scored sentence', interval: false },
  { key: 'brier_lm', label: 'BrierLM', meaning: 'likelihood-free score of sampled next sentences (0..100, higher is better)', interval: true },
  { key: 'brier_1', label: 'Brier-1', meaning: 'mean Brier-1 estimate: the first token of each next sentence (-1..1, higher is better)', interval: true },
  { key: 'brier_lm_diff', label: 'BrierLM - baseline', meaning: 'BrierLM minus the eval baseline\'s (brier_lm_diff_baseline) on the same next sentences, with a paired 95% bootstrap interval over documents', interval: true },
  { key: 'brier_1_diff', label: 'Brier-1 - baseline', meaning: 'Brier-1 minus the eval baseline\'s (brier_1_diff_baseline) on the same next sentences, with a paired 95% bootstrap interval over documents', interval: true },
  { key: 'generated_tokens', label: 'gen tokens', meaning: 'tokens generated in the speed measurement (decoder steps)', interval: false },
  { key: 'tokens_per_s', label: 'tok/s', meaning: 'generation speed, tokens per second', interval: false },
  { key: 'tokens_per_s_ratio', label: 'tok/s / baseline', meaning: 'median over the bench\'s interleaved passes of tok/s over the baseline\'s (tokens_per_s_ratio_baseline) in the same pass; the passes\' range in _min/_max', interval: false },
  { key: 'tokens_per_s_ratio_above_1', label: 'passes faster', meaning: 'bench passes in which its tok/s was above the baseline\'s in the same pass (of speed_repeats)', interval: false },
  { key: 'tokens_per_s_excl_first', label: 'tok/s excl. 1st', meaning: 'generation speed after each prompt\'s first sentence', interval: false },
  { key: 'kv_bytes_per_token', label: 'KV B/tok analyt.', meaning: 'KV-cache bytes per context token, analytical (from the cached shapes, over the eval documents)', interval: false },
  { key: 'kv_bytes_per_token_measured', label: 'KV B/tok meas.', meaning: 'KV-cache bytes per context token, measured on the caches: bytes per cached position (kv_bytes_per_position_measured) per context token over the eval documents, like the analytical figure', interval: false },
  { key: 'kv_bytes_per_position_measured', label: 'KV B/pos meas.', meaning: 'slope of the bytes the caches hold once each bench prompt is in them vs the positions it takes (tokens for a token LM, sentences for an SLLM)', interval: false },
  { key: 'kv_generation_bytes', label: 'KV gen. B', meaning: 'most cache bytes generating the bench budget held beyond the prompt\'s cache (the generated positions; an SLLM\'s sentence decoder cache), which does not grow with the context', interval: false },
  { key: 'kv_bytes_intercept', label: 'KV intercept B', meaning: 'runs before kv_generation_bytes: intercept of the former fit of peak cache bytes during generation vs context tokens (no longer written)', interval: false },
  { key: 'l2', label: 'L2', meaning: 'LCM: L2 distance between predicted and true next concept', interval: true },
  {
    key: 'energy_score',
    label: 'energy score',
    meaning:
      "LCM: energy score of two predictions drawn with different seeds, (L2(x1, y) + L2(x2, y)) / 2 - L2(x1, x2) / 2 against the true next concept y (lower is better): strictly proper, it rates the head as a distribution, so a head that samples is not penalised for its spread as L2 penalises it; a deterministic head's equals its L2, and in many dimensions any point forecast loses to a sampler of the right spread (compare with energy_score_train_dist)",
    interval: true,
  },
  {
    key: 'energy_score_train_dist',
    label: 'ES train-dist',
    meaning:
      "LCM baseline: the energy score of two training embeddings drawn at random as the prediction of each target, i.e. sampling the training distribution with no context: a sampling head that learned anything from the context scores below it",
    interval: true,
  },
  {
    key: 'energy_score_diff_train_dist',
    label: 'ES - train-dist',
    meaning:
      'LCM: energy_score minus energy_score_train_dist target by target, with a paired 95% bootstrap interval over documents (the same documents drawn for both): below 0, the head is a better distribution of the next concept than sampling the training embeddings',
    interval: true,
  },
  {
    key: 'energy_score_diff',
    label: 'ES - baseline',
    meaning:
      "LCM: energy_score minus the baseline head's (energy_score_diff_baseline: the eval's baseline when it is a head, else its first head) target by target on the same targets (the same SentenceVAE and test documents), with a paired 95% bootstrap interval over documents: below 0, this head is the better distribution of the next concept",
    interval: true,
  },
  {
    key: 'spread_ratio',
    label: 'spread / skill',
    meaning:
      "LCM: the energy score's two terms as a ratio, summed over targets: the distance between the head's two draws, L2(x1, x2), over their mean distance to the true next concept, (L2(x1, y) + L2(x2, y)) / 2, with a 95% bootstrap interval over documents. 1 for a head that samples the targets' own distribution (x1, x2 and y are then three draws of it); below 1 its draws are too alike for how far they land (0: a deterministic head), above 1 too scattered. No better side by itself: read it beside the energy score (compare with spread_ratio_train_dist)",
    interval: true,
  },
  {
    key: 'spread_ratio_train_dist',
    label: 'spread / skill train-dist',
    meaning: "LCM baseline: spread_ratio of two training embeddings drawn at random (energy_score_train_dist's draws): near 1, as the test sentences come from about the training distribution",
    interval: true,
  },
  {
    key: 'val_energy_score',
    label: 'val. energy score',
    meaning:
      "LCM: energy_score on validation documents (as many as the test's, evalDocuments), drawn with the same sampler: what to choose a sampler (initial noise, guidance) on, by forks of a trained head, so that the test figures stay a held-out measurement of the choice",
    interval: true,
  },
  {
    key: 'val_spread_ratio',
    label: 'val. spread / skill',
    meaning: 'LCM: spread_ratio on the validation documents of val_energy_score: which way to turn the sampler, read with it',
    interval: true,
  },
  {
    key: 'energy_score_posterior',
    label: 'ES posterior',
    meaning:
      "LCM over a variational SentenceVAE: the energy score of two draws against one draw of the true next sentence's posterior (seeded: the same draw for every head) rather than its mean: what CALM's energy loss scores, so a head trained against posterior draws is not penalised for the posterior's spread in its samples, as energy_score penalises it",
    interval: true,
  },
  {
    key: 'energy_score_posterior_diff_train_dist',
    label: 'ES post. - train-dist',
    meaning:
      'LCM over a variational SentenceVAE: energy_score_posterior minus that of two posterior draws of training sentences picked at random, target by target against the same posterior draw, with a paired 95% bootstrap interval over documents: below 0, the head is a better distribution of the next sentence\'s posterior than sampling the training posteriors without context',
    interval: true,
  },
  {
    key: 'energy_score_posterior_diff',
    label: 'ES post. - baseline',
    meaning:
      "LCM over a variational SentenceVAE: energy_score_posterior minus the baseline head's (energy_score_posterior_diff_baseline) on the same posterior draws of the same targets, with a paired 95% bootstrap interval over documents",
    interval: true,
  },
  {
    key: 'spread_ratio_posterior',
    label: 'spread / skill post.',
    meaning: "LCM over a variational SentenceVAE: spread_ratio against the seeded posterior draw of each target that energy_score_posterior is scored against: 1 for a head that samples the targets' posteriors (CALM's targets)",
    interval: true,
  },
  {
    key: 'energy_score_posterior_train_dist',
    label: 'ES post. train-dist',
    meaning: "LCM baseline over a variational SentenceVAE: the energy score of two posterior draws of training sentences picked at random against energy_score_posterior's posterior draw of each target (sampling the training posteriors without context; the `training dist.` row's ES posterior)",
    interval: true,
  },
  {
    key: 'spread_ratio_posterior_train_dist',
    label: 'spread / skill post. train-dist',
    meaning: 'LCM baseline over a variational SentenceVAE: spread_ratio_posterior of those two training posterior draws: near 1, as the test posteriors come from about the training ones',
    interval: true,
  },
  {
    key: 'energy_score_ahead',
    label: 'ES 2 ahead',
    meaning:
      "LCM: the energy score two sentences ahead, as generation goes on: the head draws sentence t after the true sentences before it, reads its own draw as context and draws sentence t + 1, twice (two independent rollouts), scored against the true t + 1 (its posterior mean) like energy_score; over aheadSentences targets spread evenly over the test documents (lower is better)",
    interval: true,
  },
  {
    key: 'energy_score_ahead_train_dist',
    label: 'ES 2 ahead train-dist',
    meaning: 'LCM baseline: the energy score of two training embeddings drawn at random on the targets of energy_score_ahead (sampling the training distribution: no context, so no horizon)',
    interval: true,
  },
  {
    key: 'energy_score_ahead_diff_train_dist',
    label: 'ES 2 ahead - train-dist',
    meaning: 'LCM: energy_score_ahead minus energy_score_ahead_train_dist target by target, with a paired 95% bootstrap interval over documents: below 0, two sentences ahead the head is still a better distribution than sampling the training embeddings',
    interval: true,
  },
  {
    key: 'energy_score_ahead_diff_next',
    label: 'ES 2 ahead - next',
    meaning:
      "LCM: energy_score_ahead minus the head's own energy score one sentence ahead (teacher-forced, energy_score's) on the same targets, target by target, with a paired 95% bootstrap interval over documents: what predicting from its own draw instead of the true sentence before costs (above 0, as for a head of about the right spread), or gives (below 0: its two rollouts, from different draws, spread more than its two one-step draws, and that suits the targets better)",
    interval: true,
  },
  {
    key: 'spread_ratio_ahead',
    label: 'spread / skill 2 ahead',
    meaning: "LCM: spread_ratio of energy_score_ahead's two rollouts (each from its own draw of the sentence before) on its targets: whether the rollouts' spread grows as fast as their distance to the true sentence",
    interval: true,
  },
  {
    key: 'energy_score_ahead_diff',
    label: 'ES 2 ahead - baseline',
    meaning: "LCM: energy_score_ahead minus the baseline head's (energy_score_ahead_diff_baseline) on the same targets, with a paired 95% bootstrap interval over documents",
    interval: true,
  },
  {
    key: 'energy_score_ahead_posterior',
    label: 'ES 2 ahead post.',
    meaning: "LCM over a variational SentenceVAE: energy_score_ahead against the seeded posterior draw of each target that energy_score_posterior is scored against",
    interval: true,
  },
  {
    key: 'energy_score_ahead_posterior_diff_train_dist',
    label: 'ES 2 ahead post. - train-dist',
    meaning: 'LCM over a variational SentenceVAE: energy_score_ahead_posterior minus that of two posterior draws of training sentences picked at random, target by target, paired: below 0, two sentences ahead the head is a better distribution of the posterior than sampling the training posteriors',
    interval: true,
  },
  {
    key: 'energy_score_ahead_posterior_diff',
    label: 'ES 2 ahead post. - baseline',
    meaning: "LCM over a variational SentenceVAE: energy_score_ahead_posterior minus the baseline head's (energy_score_ahead_posterior_diff_baseline) on the same posterior draws of the same targets, paired",
    interval: true,
  },
  {
    key: 'l2_diff',
    label: 'L2 - baseline',
    meaning: "LCM: L2 minus the baseline head's (l2_diff_baseline) target by target on the same targets, with a paired 95% bootstrap interval over documents: below 0, this head's predictions are nearer the true next concepts",
    interval: true,
  },
  { key: 'contrastive_acc', label: 'contr. acc', meaning: 'LCM: contrastive accuracy (0.5 = chance)', interval: true },
  {
    key: 'contrastive_acc_diff',
    label: 'contr. acc - baseline',
    meaning: "LCM: contrastive accuracy minus the baseline head's (contrastive_acc_diff_baseline) target by target on the same targets (the same distractors), with a paired 95% bootstrap interval over documents: above 0, this head tells the true next concept from the others better",
    interval: true,
  },
  { key: 'l2_copy_prev', label: 'L2 copy-prev', meaning: 'LCM baseline: L2 of the previous sentence\'s embedding as the prediction', interval: true },
  { key: 'contrastive_acc_copy_prev', label: 'acc copy-prev', meaning: 'LCM baseline: contrastive accuracy of copy-previous', interval: true },
  { key: 'l2_train_mean', label: 'L2 train-mean', meaning: 'LCM baseline: L2 of the training embeddings\' mean as the prediction', interval: true },
  { key: 'contrastive_acc_train_mean', label: 'acc train-mean', meaning: 'LCM baseline: contrastive accuracy of the training mean', interval: true },
  { key: 'roundtrip_l2', label: 'round-trip L2', meaning: 'LCM: L2 after decode + re-encode of the prediction', interval: false },
  { key: 'recon_token_acc', label: 'recon tok acc', meaning: 'SVAE: reconstruction token accuracy', interval: true },
  { key: 'recon_exact_match', label: 'recon exact', meaning: 'SVAE: share of sentences reconstructed exactly', interval: true },
  {
    key: 'recon_noise_half',
    label: 'noise, half lost',
    meaning:
      "SVAE: the Gaussian noise, in multiples of each vector's RMS, at which the decoder's validation NLL is halfway between its own vectors' and shuffled ones' (half of what the vector carries lost; linear between levels 1/16 .. 16): higher is more robust to the errors of a predicted vector; null when the vector carries nothing, or half is kept at 16",
    interval: false,
  },
  {
    key: 'val_kl',
    label: 'KL nats/sent.',
    meaning:
      'SVAE (variational): KL(q(z | x) || N(0, I)) per validation sentence at the last evaluation, in nats: how much a sampled sentence vector can carry (its rate; ~0 is posterior collapse, the decoder then ignores the vector)',
    interval: false,
  },
] as const;

export type EvalKey = (typeof EVAL_METRICS)[number]['key'];

/** The eval keys by name, e.g. `EVAL_KEYS.ppl === 'ppl'`. */
export const EVAL_KEYS = Object.fromEntries(EVAL_METRICS.map((m) => [m.key, m.key])) as { readonly [K in EvalKey]: K };

/** The `summary.json` keys of a figure's 95% interval. */
export function intervalKeys(key: string): { low: string; high: string } {
  return { low: `${key}_ci_low`, high: `${key}_ci_high` };
}

/** The figure an interval key belongs to (`ppl_ci_low` -> `ppl`); undefined for any other key. */
export function intervalBase(key: string): string | undefined {
  return /^(.+)_ci_(low|high)$/.exec(key)?.[1];
}

/**
 * The `summary.json` keys of the range a figure's repeated measurements spanned: the bench
 * stores its generation speed as the median of its timed passes (`tokens_per_s`) with their
 * slowest and fastest (`tokens_per_s_min`, `tokens_per_s_max`). Not a confidence interval.
 */
export function rangeKeys(key: string): { low: string; high: string } {
  return { low: `${key}_min`, high: `${key}_max` };
}

/**
 * The two bounds stored under `keys` (`intervalKeys(k)` or `rangeKeys(k)`) in an eval record,
 * when both are numbers: the one reader of a figure's interval or range.
 */
export function storedBounds(record: Readonly<Record<string, unknown>> | undefined, keys: { low: string; high: string }): { low: number; high: number } | undefined {
  const low = record?.[keys.low];
  const high = record?.[keys.high];
  return typeof low === 'number' && typeof high === 'number' ? { low, high } : undefined;
}

/**
 * The eval figures where higher is better: speed, accuracy, BrierLM, their paired comparisons
 * and the SentenceVAE's recovery figures. Every other figure that has a better side is better
 * lower (PPL, bits/byte, L2, energy scores and their differences, KV bytes, parameters, FLOPs).
 */
export const HIGHER_IS_BETTER: ReadonlySet<EvalKey> = new Set<EvalKey>([
  'tokens_per_s',
  'tokens_per_s_ratio',
  'tokens_per_s_ratio_above_1',
  'tokens_per_s_excl_first',
  'brier_lm',
  'brier_1',
  'brier_lm_diff',
  'brier_1_diff',
  'contrastive_acc',
  'contrastive_acc_diff',
  'contrastive_acc_copy_prev',
  'contrastive_acc_train_mean',
  'recon_token_acc',
  'recon_exact_match',
  'recon_noise_half',
]);

/**
 * Which of a concept head's tables a figure of its belongs to: as a point (the LCM paper's L2,
 * contrastive accuracy, round trip, and their paired differences), two sentences ahead (its own
 * draw of the sentence before read back as context), else as a distribution of the next vector.
 * The eval's tables and the report's LCM tables both split on it.
 */
export type HeadTablePart = 'distribution' | 'point' | 'ahead';

const HEAD_POINT_FIGURES: ReadonlySet<string> = new Set<EvalKey>(['l2', 'l2_diff', 'contrastive_acc', 'contrastive_acc_diff', 'roundtrip_l2']);
const HEAD_AHEAD_FIGURES: ReadonlySet<string> = new Set<EvalKey>([
  'energy_score_ahead',
  'energy_score_ahead_train_dist',
  'energy_score_ahead_diff_train_dist',
  'energy_score_ahead_diff_next',
  'spread_ratio_ahead',
  'energy_score_ahead_diff',
  'energy_score_ahead_posterior',
  'energy_score_ahead_posterior_diff_train_dist',
  'energy_score_ahead_posterior_diff',
]);

export function headTablePart(key: string): HeadTablePart {
  return HEAD_POINT_FIGURES.has(key) ? 'point' : HEAD_AHEAD_FIGURES.has(key) ? 'ahead' : 'distribution';
}

/** A figure the eval also compares with its baseline model's pairwise (on the same documents or passes). */
export interface PairedComparison {
  /** Where the comparison is stored. */
  key: EvalKey;
  /** The figure over the baseline's (no difference: 1), or the figure minus the baseline's (0: scores that can be 0 or negative). */
  op: 'ratio' | 'difference';
  /**
   * `interval`: a paired 95% bootstrap interval (the same documents drawn for both models);
   * `range`: the range over the bench's interleaved passes of the per-pass ratio, with the
   * passes where it was above 1 under {@link aboveOneKey} (tok/s).
   */
  bounds: 'interval' | 'range';
}

/**
 * Figures the eval also compares pairwise with its baseline model: the figure's key -> the
 * comparison. The baseline's stage name is stored under {@link pairedBaselineKey}.
 */
export const PAIRED_COMPARISONS: ReadonlyMap<EvalKey, PairedComparison> = new Map<EvalKey, PairedComparison>([
  ['ppl', { key: 'ppl_ratio', op: 'ratio', bounds: 'interval' }],
  ['brier_lm', { key: 'brier_lm_diff', op: 'difference', bounds: 'interval' }],
  ['brier_1', { key: 'brier_1_diff', op: 'difference', bounds: 'interval' }],
  ['tokens_per_s', { key: 'tokens_per_s_ratio', op: 'ratio', bounds: 'range' }],
  ['energy_score', { key: 'energy_score_diff', op: 'difference', bounds: 'interval' }],
  ['energy_score_posterior', { key: 'energy_score_posterior_diff', op: 'difference', bounds: 'interval' }],
  ['energy_score_ahead', { key: 'energy_score_ahead_diff', op: 'difference', bounds: 'interval' }],
  ['energy_score_ahead_posterior', { key: 'energy_score_ahead_posterior_diff', op: 'difference', bounds: 'interval' }],
  ['l2', { key: 'l2_diff', op: 'difference', bounds: 'interval' }],
  ['contrastive_acc', { key: 'contrastive_acc_diff', op: 'difference', bounds: 'interval' }],
]);

/**
 * A model's PPL over its compute-matched token LM's (`ppl_ratio_matched`), paired over the same
 * documents: a ratio like `ppl_ratio`, but each model has its own baseline (the token LM trained
 * with its FLOPs, named in `ppl_ratio_matched_baseline`), not the eval's.
 */
export const MATCHED_PPL_COMPARISON: PairedComparison = { key: 'ppl_ratio_matched', op: 'ratio', bounds: 'interval' };

/** Every paired comparison an eval may store: those with the eval's baseline, then the compute-matched PPL ratio. */
export const ALL_PAIRED_COMPARISONS: readonly PairedComparison[] = [...PAIRED_COMPARISONS.values(), MATCHED_PPL_COMPARISON];

/** The keys a paired comparison's bounds are stored under (`intervalKeys` or `rangeKeys` of its key). */
export function pairedBoundsKeys(paired: PairedComparison): { low: string; high: string } {
  return paired.bounds === 'interval' ? intervalKeys(paired.key) : rangeKeys(paired.key);
}

/** A paired comparison's value for no difference: 1 for a ratio, 0 for a difference. */
export function noChange(paired: PairedComparison): number {
  return paired.op === 'ratio' ? 1 : 0;
}

/**
 * Where a paired interval lies against no change: wholly `below` or `above` it (the difference
 * is resolved), `includes` it, or `same` when both bounds are no change (both models scored the
 * same on every draw, as BrierLM 0 and 0: it says nothing about either).
 */
export function pairedSide(paired: PairedComparison, bounds: { low: number; high: number }): 'below' | 'above' | 'includes' | 'same' {
  const none = noChange(paired);
  if (bounds.low === none && bounds.high === none) return 'same';
  return bounds.high < none ? 'below' : bounds.low > none ? 'above' : 'includes';
}

/** Where a per-pass ratio stores how many passes it was above 1 (`tokens_per_s_ratio_above_1`). */
export function aboveOneKey(ratioKey: string): string {
  return `${ratioKey}_above_1`;
}

/** The `summary.json` key naming the baseline stage of a paired comparison (`ppl_ratio_baseline`, `brier_1_diff_baseline`). */
export function pairedBaselineKey(comparisonKey: string): string {
  return `${comparisonKey}_baseline`;
}

/** A figure's stored spread: its 95% interval, else the range of its repeated measurements. */
export interface StoredSpread {
  kind: 'interval' | 'range';
  low: number;
  high: number;
}

/** The spread stored beside `key` in an eval record: its interval (`_ci_low/_high`), else its range (`_min/_max`). */
export function storedSpread(record: Readonly<Record<string, unknown>> | undefined, key: string): StoredSpread | undefined {
  const ci = storedBounds(record, intervalKeys(key));
  if (ci) return { kind: 'interval', ...ci };
  const range = storedBounds(record, rangeKeys(key));
  return range ? { kind: 'range', ...range } : undefined;
}

/**
 * The figure a bound key belongs to in `record` (`ppl_ci_low` -> `ppl`, `tokens_per_s_max` ->
 * `tokens_per_s`), when the record holds that figure as a number: tables print the bound in its
 * figure's cell instead of a row of its own. Undefined for any other key (`context_tokens_min`,
 * whose `context_tokens` is no figure).
 */
export function spreadBase(key: string, record: Readonly<Record<string, unknown>>): string | undefined {
  const base = intervalBase(key) ?? /^(.+)_(min|max)$/.exec(key)?.[1];
  return base !== undefined && typeof record[base] === 'number' ? base : undefined;
}

/** A figure's interval as its `summary.json` entries; none when it has no interval (measured on a single document). */
export function intervalEntries(key: EvalKey, ci: { low: number; high: number } | undefined): Record<string, number> {
  if (ci === undefined) return {};
  const k = intervalKeys(key);
  return { [k.low]: ci.low, [k.high]: ci.high };
}

/** Per model: PPL by the context tokens behind each scored sentence, `{bucket: {ppl, tokens}}` (`0-32` .. `256+`). */
export const PPL_BY_CONTEXT_KEY = 'ppl_by_context';

/**
 * Per concept head: the energy score by horizon, on the same targets at every horizon h (1: the
 * teacher-forced draw; h: drawn after the head's own draws of the h - 1 sentences before),
 * `{h: {energy_score, train_dist, diff_train_dist, diff_next (from h = 2: minus horizon 1's, target
 * by target), spread_ratio (each with _ci_low / _ci_high), targets}}`.
 */
export const ES_BY_HORIZON_KEY = 'energy_score_by_horizon';
