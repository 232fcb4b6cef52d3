/**
 * `kind: eval`: evaluates every input model on the same held-out documents and prints the
 * comparison. Token predictors (token LM, SLLM) are scored on exactly the same tokens
 * (sentences 2..N of each document with their EOS; the ids each model scored are fingerprinted
 * and checked) and, with `context: matched` (the default), after exactly the same context
 * sentences: for every scored sentence, the whole earlier sentences that fit a shared token
 * budget. Every figure that is a sum over documents gets a 95% bootstrap interval over the
 * documents. Models evaluated by their own stage (the SVAE's reconstruction, the concept heads'
 * L2 / contrastive accuracy against their baselines) bring their results and intervals in their
 * artifact; bench stages bring speed and measured KV bytes. Results are also merged into each
 * model's summary.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  analyticalKvBytesPerToken,
  bitsPerByte,
  bootstrapRatio,
  intervalsOverlap,
  matchedContextStarts,
  meanTokensPerSentence,
  pairedBootstrapRatio,
  pairedBrierDifferences,
  perplexityOverDocuments,
  scoredBytes,
  BRIER_TOKENS,
  brierFigures,
  brierSample,
  spreadPicks,
  tokensPerCachePosition,
  type BrierItem,
  type PerplexityComparison,
} from '@sentencelab/metrics';
import { ES_BY_HORIZON_KEY, EVAL_METRICS, headTablePart, intervalEntries, intervalKeys, MATCHED_PPL_COMPARISON, mergeEvalResults, PAIRED_COMPARISONS, aboveOneKey, noChange, pairedBaselineKey, pairedBoundsKeys, pairedSide, PPL_BY_CONTEXT_KEY, rangeKeys, storedBounds, storedSpread, type EvalKey, type EvalValue, type PairedComparison } from '@sentencelab/runs';
import { conceptHeadConfigSchema, describeSampler } from '@sentencelab/concept-heads';
import { z } from 'zod';
import { figureWithInterval, figureWithRange, figureWithSpread, formatCell, renderTable, type Cell } from '../table.js';
import { passRatios } from './bench.js';
import { datasetDirOf, loadData, pickDocuments, tokenizerArtifact } from './dataset.js';
import { matchingReport, predictorProfile } from './matching.js';
import { countedFlops } from '../pipeline/compute.js';
import { computeMatches, type ComputeMatch } from './compute-matched.js';
import { HEAD_REFERENCE_KEYS, headReferenceRows } from './head-references.js';
import { horizonTable } from './horizon-table.js';
import { spreadHint } from './spread-hint.js';
import { isAhead, pairedBrier, pairedScore, pairingOf } from './head-pairing.js';
import { CONCEPT_HEAD_KINDS, isConceptHeadKind, type Artifact, type EvalScorer, type Stage, type StageSection } from './types.js';

/**
 * BrierLM of one model over `limit` scored sentences spread across the documents
 * (`spreadPicks`: an even share of each, evenly spaced, so the bootstrap over documents has
 * documents to resample): two samples of each next sentence after its context (sentences
 * starts[k]..k of its document), seeded per item and sample, so every model draws with the
 * same seeds. Items grouped by document, for the bootstrap.
 */
export async function brierItems(
  sampleNext: EvalScorer['sampleNext'],
  docs: readonly (readonly ArrayLike<number>[])[],
  starts: readonly (readonly number[])[],
  { limit, eos, seed }: { limit: number; eos: number; seed: number },
): Promise<BrierItem[][]> {
  // Sentence i >= 1 of a document is scored after sentences starts[i - 1]..i - 1.
  const picks = spreadPicks(docs.map((d) => Math.max(0, d.length - 1)), limit);
  const out: BrierItem[][] = [];
  let k = 0;
  for (let d = 0; d < docs.length; d++) {
    const items: BrierItem[] = [];
    for (const p of picks[d]!) {
      const i = p + 1;
      const start = starts[d]![p]!;
      const context = docs[d]!.slice(start, i);
      const item = k++;
      const draw = async (j: number) => brierSample(await sampleNext(context, { documentStart: start === 0, maxTokens: BRIER_TOKENS, seed: seed * 1_000_003 + 2 * item + j }), BRIER_TOKENS, eos);
      items.push({ target: [...Array.from(docs[d]![i]!), eos], samples: [await draw(0), await draw(1)] });
    }
    out.push(items);
  }
  return out;
}

export const evalStageSchema = z.strictObject({
  documents: z.number().int().positive().default(50).describe('held-out documents (with at least 2 sentences) every model is scored on'),
  split: z.enum(['test', 'validation']).default('test').describe('which held-out split the documents come from'),
  baseline: z
    .string()
    .nullable()
    .default(null)
    .describe("stage whose figures the ratio columns divide by; null = the first token-lm input. Concept heads are paired with it when it is a head, else with the first head (their energy scores and BrierLM on the same targets)"),
  headBaselines: z
    .record(z.string(), z.string())
    .default({})
    .describe('concept heads paired with another head than the baseline, head -> its baseline head (e.g. each variant with its own control: {one-tower-draws: one-tower}); both among the models'),
  context: z
    .enum(['matched', 'unmatched'])
    .default('matched')
    .describe('matched: every token predictor scores each sentence after the same earlier sentences (those fitting contextTokens); unmatched: each model reads documents in its own windows (token LM: maxLen tokens, stride maxLen/2; SLLM: decoder.maxLen sentences)'),
  contextTokens: z
    .number()
    .int()
    .positive()
    .nullable()
    .default(null)
    .describe('matched: the context budget in tokens (earlier sentences + their EOS); null = the most every model takes: each token LM\'s maxLen - 1 - the longest scored sentence, and at most each SLLM\'s decoder.maxLen sentences'),
  resamples: z.number().int().positive().default(1000).describe('bootstrap resamples of the documents for the 95% intervals (seeded by the pipeline seed)'),
  brierSentences: z
    .number()
    .int()
    .nonnegative()
    .default(256)
    .describe('BrierLM: how many scored sentences (spread evenly over the documents) each token predictor samples twice after the matched context; 0 = no BrierLM'),
});


/**
 * The table's figures, in the one list's order; context min/max print inside the mean's cell;
 * the bench's bytes per position as bytes per token; the paired ratios (PPL, tok/s) in the ratio
 * columns, the paired Brier differences under the tables.
 */
const PAIRED_KEYS = new Set<string>([...PAIRED_COMPARISONS.values()].flatMap((p) => (p.bounds === 'range' ? [p.key, aboveOneKey(p.key)] : [p.key])));
const TABLE_KEYS: readonly EvalKey[] = EVAL_METRICS.map((m) => m.key).filter(
  (k) => !['context_tokens_min', 'context_tokens_max', 'kv_bytes_per_position_measured'].includes(k) && !PAIRED_KEYS.has(k),
);
const LABELS = new Map<string, string>(EVAL_METRICS.map((m) => [m.key, m.label]));
/** Figures shown again as a ratio to the baseline (for the token predictors: token LM, SLLM). */
const RATIOS: readonly EvalKey[] = ['params', 'training_tflop', 'ppl', 'tokens_per_s', 'kv_bytes_per_token'];
/** The generation measurements (speed, KV cache): the token predictors' second table, so neither is 300 characters wide. */
const GENERATION_KEYS: ReadonlySet<EvalKey> = new Set(['generated_tokens', 'tokens_per_s', 'tokens_per_s_excl_first', 'kv_bytes_per_token', 'kv_bytes_per_token_measured', 'kv_generation_bytes']);

/**
 * Which columns a table keeps: every figure (`all`); a token predictor's quality figures or its
 * generation measurements; a concept head's figures as a distribution of the next vector (its
 * size, energy scores, BrierLM), as a point (L2, contrastive accuracy, round trip, the
 * copy-previous flag) or two sentences ahead (its energy scores there). The heads' parts leave
 * out their baselines' figures, which {@link headReferenceRows} prints as rows.
 */
export type TablePart = 'all' | 'quality' | 'generation' | 'distribution' | 'point' | 'ahead';

function inTablePart(part: TablePart, k: EvalKey): boolean {
  switch (part) {
    case 'all':
      return true;
    case 'quality':
    case 'generation':
      return (part === 'generation') === GENERATION_KEYS.has(k);
    case 'point':
    case 'ahead':
      return headTablePart(k) === part && !HEAD_REFERENCE_KEYS.has(k);
    case 'distribution':
      return !GENERATION_KEYS.has(k) && headTablePart(k) === part && !HEAD_REFERENCE_KEYS.has(k);
  }
}

export interface ModelResult {
  stage: string;
  kind: string;
  runDir?: string;
  results: Record<string, number>;
}

/** `66.90 [63.02, 71.20]` when the results hold the figure's interval; tokens/s with its range over the timed passes, `1263 (887-1419)`. */
function figureCell(results: Record<string, number>, key: EvalKey): Cell {
  const v = results[key];
  if (v === undefined) return undefined;
  if (key === 'context_tokens_mean') return `${v.toFixed(1)} (${formatCell(results['context_tokens_min'])}-${formatCell(results['context_tokens_max'])})`;
  const spread = storedSpread(results, key);
  return spread ? figureWithSpread(v, spread) : v;
}

/**
 * `PPL sllm / lm-compute (trained with its FLOPs), paired over the same documents: 0.986 [0.975,
 * 0.997]: excludes 1: ...` for each model with a compute-matched token LM among the models.
 */
function matchedLines(rows: readonly ModelResult[], matchedLm: ReadonlyMap<string, ComputeMatch>, documents: number): string[] {
  const comparison = MATCHED_PPL_COMPARISON;
  return rows.flatMap((r) => {
    const value = r.results[comparison.key];
    const m = matchedLm.get(r.stage);
    const b = storedBounds(r.results, pairedBoundsKeys(comparison));
    if (value === undefined || m === undefined || b === undefined) return [];
    const how = m.budgetOf === r.stage ? 'with its FLOPs' : `with ${m.budgetOf}'s FLOPs, ${r.stage}'s x${m.ratio.toFixed(4)} of them`;
    return pairedIntervalLine(`PPL ${r.stage} / ${m.lm} (the token LM trained ${how})`, comparison, value, b, documents);
  });
}

/**
 * `<head>, paired over the same documents: 0.986 [0.975, 0.997]: excludes 1: the difference is
 * resolved` (or `includes 1: ... not resolved by these N documents`); nothing where both bounds
 * sit at no change (every draw scored the same).
 */
function pairedIntervalLine(head: string, paired: PairedComparison, value: number, b: { low: number; high: number }, documents: number): string[] {
  const none = noChange(paired);
  const side = pairedSide(paired, b);
  if (side === 'same') return [];
  const verdict = side === 'includes' ? `includes ${none}: the difference is not resolved by these ${documents} documents` : `excludes ${none}: the difference is resolved`;
  return [`${head}, paired over the same documents: ${figureWithInterval(value, b.low, b.high)}: ${verdict}`];
}

/**
 * The comparison table (figures absent for a model print as "-"; a figure with a 95% interval
 * prints it in brackets). The ratio columns divide token predictors' figures by the baseline's.
 * `part` keeps the quality figures or the generation measurements only (default: all).
 */
export function comparisonTable(rows: readonly ModelResult[], baseline: string | null, part: TablePart = 'all'): string {
  const present = TABLE_KEYS.filter((k) => inTablePart(part, k) && rows.some((r) => r.results[k] !== undefined));
  const base = rows.find((r) => r.stage === baseline);
  const ratios = base ? RATIOS.filter((k) => present.includes(k) && base.results[k] !== undefined && base.results[k] !== 0) : [];
  const flags = (part === 'all' || part === 'point') && rows.some((r) => r.results['l2_copy_prev'] !== undefined);
  const headers = ['model', 'kind', ...present.map((k) => LABELS.get(k)!), ...(flags ? ['vs copy-prev'] : []), ...ratios.map((k) => `${LABELS.get(k)} x${baseline}`)];
  const body: Cell[][] = rows.map((r) => [
    r.stage,
    r.kind,
    ...present.map((k) => figureCell(r.results, k)),
    ...(flags ? [copyPrevFlag(r.results)] : []),
    // Ratios compare token predictors only (the paper's table); other rows leave them blank.
    ...ratios.map((k) => (r.results[k] === undefined || r.results['ppl_tokens'] === undefined ? undefined : ratioCell(r.results, k, r.results[k]! / base!.results[k]!))),
  ]);
  return renderTable(headers, body);
}

/**
 * A ratio to the baseline; where the eval stored it paired, that ratio with its bounds: PPL's
 * paired interval (`1.121 [1.105, 1.135]`), tok/s's median per-pass ratio and its range over
 * the bench's interleaved passes (`1.097 (0.950-1.300)`).
 */
function ratioCell(results: Record<string, number>, key: EvalKey, ratio: number): Cell {
  const paired = PAIRED_COMPARISONS.get(key);
  const stored = paired?.op !== 'ratio' ? undefined : results[paired.key];
  const bounds = paired === undefined ? undefined : storedBounds(results, pairedBoundsKeys(paired));
  if (paired === undefined || stored === undefined || bounds === undefined) return ratio;
  return figureWithSpread(stored, { kind: paired.bounds, ...bounds });
}

/**
 * For each model compared pairwise with the baseline on `keys`: for PPL (a ratio) and Brier (a
 * difference), whether the paired interval excludes no change (two models rated on the same
 * documents are compared on the same draws, so this can resolve a difference that their separate
 * intervals, which carry what the documents share, leave open); for tok/s, the per-pass ratio
 * over the bench's interleaved passes and in how many passes it was above 1.
 */
export function pairedLines(rows: readonly ModelResult[], baseline: string | null, documents: number, keys: readonly EvalKey[]): string[] {
  if (baseline === null) return [];
  return keys.flatMap((key) => {
    const paired = PAIRED_COMPARISONS.get(key);
    if (paired === undefined) return [];
    return rows.flatMap((r) => {
      const value = r.results[paired.key];
      const b = storedBounds(r.results, pairedBoundsKeys(paired));
      if (value === undefined || b === undefined) return [];
      const head = `${LABELS.get(key)} ${r.stage} ${paired.op === 'ratio' ? '/' : '-'} ${baseline}`;
      if (paired.bounds === 'range') {
        const above = r.results[aboveOneKey(paired.key)];
        const passes = r.results['speed_repeats'];
        return [`${head}, pass by pass (interleaved): ${figureWithRange(value, b.low, b.high)}${above === undefined || passes === undefined ? '' : `: above 1 in ${above} of ${passes} passes`}`];
      }
      return pairedIntervalLine(head, paired, value, b, documents);
    });
  });
}

/**
 * Head `a`'s energy score, L2 and contrastive accuracy minus the baseline head's, target by
 * target on the same targets (head-pairing.ts), as results entries (`energy_score_diff`,
 * `l2_diff`, `contrastive_acc_diff` and their paired intervals; over a variational SentenceVAE
 * also `energy_score_posterior_diff`), the baseline named in `extra`; a line for each (or why
 * there is none) appended to `lines`.
 */
function pairWithBaseHead(a: Artifact, base: Artifact, extra: Record<string, EvalValue>, lines: string[], o: { resamples: number; seed: number }): Record<string, number> {
  const [mine, theirs] = [pairingOf(a.meta), pairingOf(base.meta)];
  const pair = `${a.stage} - ${base.stage}`;
  if (!mine || !theirs) {
    lines.push(`${LABELS.get('energy_score')} ${pair}: not paired (${!mine ? a.stage : base.stage}'s artifact keeps no per-target scores: made before they were kept)`);
    return {};
  }
  const out: Record<string, number> = {};
  const targets = mine.documents.reduce((n, d) => n + d.targets, 0);
  const aheadTargets = mine.documents.reduce((n, d) => n + (d.aheadTargets ?? 0), 0);
  const documents = mine.documents.filter((d) => d.targets > 0).length;
  const scores = [['energy_score', 'energyScore'], ['energy_score_posterior', 'energyScorePosterior'], ['l2', 'l2'], ['contrastive_acc', 'contrastiveAcc'], ['energy_score_ahead', 'energyScoreAhead'], ['energy_score_ahead_posterior', 'energyScoreAheadPosterior']] as const;
  for (const [figure, score] of scores) {
    const comparison = PAIRED_COMPARISONS.get(figure)!;
    const head = `${LABELS.get(figure)} ${pair}`;
    const paired = pairedScore(mine, theirs, score, o);
    if (paired === undefined) continue;
    if (paired === 'other targets') {
      // Other targets: none of the scores pair. Only other targets ahead: the rest still do.
      if (isAhead(score)) {
        lines.push(`${head}: not paired: they rolled out other targets two sentences ahead (another aheadSentences or maxSentences)`);
        continue;
      }
      lines.push(`${head}: not paired: they were scored against other targets (another SentenceVAE, or other test documents)`);
      break;
    }
    extra[pairedBaselineKey(comparison.key)] = base.stage;
    Object.assign(out, { [comparison.key]: paired.difference, ...intervalEntries(comparison.key, paired.interval) });
    const count = isAhead(score) ? aheadTargets : targets;
    if (paired.interval) lines.push(...pairedIntervalLine(`${head} (the same ${count} targets)`, comparison, paired.difference, paired.interval, documents));
  }
  // BrierLM through the SentenceVAE's decoder, on the same next sentences.
  const brier = pairedBrier(mine, theirs, o);
  if (brier === 'other sentences') lines.push(`${LABELS.get('brier_lm')} ${pair}: not paired: they were rated on other next sentences (other targets, or another brierSentences)`);
  else if (brier !== undefined) {
    Object.assign(out, brier);
    for (const figure of ['brier_lm', 'brier_1'] as const) {
      const comparison = PAIRED_COMPARISONS.get(figure)!;
      extra[pairedBaselineKey(comparison.key)] = base.stage;
      const b = storedBounds(brier, pairedBoundsKeys(comparison));
      if (b) lines.push(...pairedIntervalLine(`${LABELS.get(figure)} ${pair}`, comparison, brier[comparison.key]!, b, documents));
    }
  }
  return out;
}

/**
 * A concept head must beat "copy the previous sentence's embedding" on both L2 (lower) and
 * contrastive accuracy (higher): the LCM paper's figures, which count a sampling head's spread
 * against it (its energy score, beside them, does not; see `energy_score_train_dist`).
 */
export function copyPrevFlag(r: Record<string, number>): string | undefined {
  const l2 = r['l2'];
  const base = r['l2_copy_prev'];
  if (l2 === undefined || base === undefined) return undefined;
  const acc = r['contrastive_acc'];
  const accBase = r['contrastive_acc_copy_prev'];
  const beats = l2 < base && (acc === undefined || accBase === undefined || acc > accBase);
  return beats ? 'beats' : 'DOES NOT BEAT';
}

/** The PPL-by-context table: one row per model, one column per context bucket, `PPL (tokens)`. */
export function contextTable(ppl: PerplexityComparison): string {
  const buckets = ppl.models[0]!.byContext.map((b) => b.bucket);
  return renderTable(
    ['model', ...buckets.map((b) => `ctx ${b}`)],
    ppl.models.map((m) => [m.name, ...m.byContext.map((b) => (b.tokens === 0 ? undefined : `${formatCell(b.ppl)} (${b.tokens})`))]),
  );
}

/**
 * Whether models' 95% intervals overlap, one line per figure: a single pair with both figures,
 * several pairs grouped into those apart and those overlapping (the figures are in the tables).
 */
export function overlapLines(rows: readonly ModelResult[], keys: readonly EvalKey[], documents: number): string[] {
  const lines: string[] = [];
  const docs = `these ${documents} documents`;
  for (const key of keys) {
    const withCi = rows.flatMap((row) => {
      const ci = storedBounds(row.results, intervalKeys(key));
      return ci ? [{ row, ci }] : [];
    });
    const pairs: { a: ModelResult; b: ModelResult; overlap: boolean }[] = [];
    for (let i = 0; i < withCi.length; i++) {
      for (let j = i + 1; j < withCi.length; j++) {
        const [{ row: a, ci: ia }, { row: b, ci: ib }] = [withCi[i]!, withCi[j]!];
        // Two identical single points (e.g. BrierLM 0 [0, 0] twice) say nothing about either model.
        if (ia.low === ia.high && ib.low === ib.high && ia.low === ib.low) continue;
        pairs.push({ a, b, overlap: intervalsOverlap(ia, ib) });
      }
    }
    const label = LABELS.get(key);
    if (pairs.length === 1) {
      const { a, b, overlap } = pairs[0]!;
      const verdict = overlap ? `95% intervals overlap: model by model, ${docs} do not resolve the difference` : '95% intervals do not overlap';
      lines.push(`${label}: ${a.stage} ${figureCell(a.results, key)} vs ${b.stage} ${figureCell(b.results, key)}: ${verdict}`);
    } else if (pairs.length > 1) {
      const names = (overlap: boolean) => pairs.filter((p) => p.overlap === overlap).map((p) => `${p.a.stage} vs ${p.b.stage}`);
      const [apart, overlapping] = [names(false), names(true)];
      const verdict =
        apart.length === 0
          ? `every pair's 95% intervals overlap: model by model, ${docs} resolve no difference`
          : overlapping.length === 0
            ? "every pair's 95% intervals are apart"
            : `95% intervals apart: ${apart.join(', ')}; overlapping (model by model, not resolved by ${docs}): ${overlapping.join(', ')}`;
      lines.push(`${label} (${[...new Set(pairs.flatMap((p) => [p.a.stage, p.b.stage]))].join(', ')}): ${verdict}`);
    }
  }
  return lines;
}

/**
 * A warning when the benched models generated different numbers of tokens: their tokens/s are
 * then not equal work (a bench stage gives each the same budget, so this means one stopped early).
 */
export function unequalBudgets(rows: readonly ModelResult[]): string[] {
  const counted = rows.filter((r) => r.results['generated_tokens'] !== undefined);
  if (new Set(counted.map((r) => r.results['generated_tokens'])).size < 2) return [];
  return [`warning: the models generated different numbers of tokens (${counted.map((r) => `${r.stage} ${r.results['generated_tokens']}`).join(', ')}): their tok/s are not equal work`];
}

/** A model's tok/s over the baseline's, pass by pass, from the first bench whose passes timed both. */
function benchPassRatios(benches: readonly Artifact[], stage: string, baseline: string): ReturnType<typeof passRatios> {
  for (const b of benches) {
    const rates = b.meta['passRates'] as Record<string, number[]> | undefined;
    const own = rates?.[stage];
    const base = rates?.[baseline];
    if (own && base) return passRatios(own, base);
  }
  return undefined;
}

/** A concept head's sampler in words (`describeSampler`), from the config its artifact was evaluated with; undefined for other models. */
function samplerOf(a: Artifact): string | undefined {
  if (!isConceptHeadKind(a.kind)) return undefined;
  const config = conceptHeadConfigSchema.safeParse(a.meta['config']);
  return config.success ? describeSampler(config.data) : undefined;
}

function numbersOf(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** Matched context budget: what every scorer can take (see the `contextTokens` option). */
export function matchedBudget(scorers: readonly Pick<EvalScorer, 'contextLimit'>[], longestSentence: number): { maxTokens: number; maxSentences: number } {
  const positions = Math.min(...scorers.map((s) => s.contextLimit.positions ?? Number.POSITIVE_INFINITY));
  const sentences = Math.min(...scorers.map((s) => s.contextLimit.sentences ?? Number.POSITIVE_INFINITY));
  // A row holds [BOS] + context + the scored sentence's tokens as inputs (its EOS is only a target).
  return { maxTokens: Number.isFinite(positions) ? Math.max(0, positions - 1 - longestSentence) : Number.POSITIVE_INFINITY, maxSentences: sentences };
}

/**
 * The eval's baseline and `headBaselines` name its models, and each head's baseline is another
 * concept head: checked when the pipeline is planned, before anything trains.
 */
export function evalInputsCheck(options: z.output<typeof evalStageSchema>, inputs: Record<string, StageSection | StageSection[]>, names: Record<string, string | string[]>): { keyPath: string; reason: string } | undefined {
  const refs = names['models'];
  const models = Array.isArray(refs) ? refs : refs === undefined ? [] : [refs];
  const sections = inputs['models'];
  const kindOf = new Map(models.map((m, i) => [m, (Array.isArray(sections) ? sections[i] : sections)?.kind]));
  const list = models.join(', ');
  if (options.baseline !== null && !kindOf.has(options.baseline)) return { keyPath: 'baseline', reason: `"${options.baseline}" is not one of its models (${list})` };
  for (const [head, base] of Object.entries(options.headBaselines)) {
    const at = `headBaselines.${head}`;
    for (const m of [head, base]) {
      if (!kindOf.has(m)) return { keyPath: at, reason: `"${m}" is not one of its models (${list})` };
      if (!isConceptHeadKind(kindOf.get(m))) return { keyPath: at, reason: `"${m}" is a ${kindOf.get(m)} stage; only concept heads (${CONCEPT_HEAD_KINDS.join(', ')}) are paired with a baseline head` };
    }
    if (head === base) return { keyPath: at, reason: `a head cannot be its own baseline` };
  }
  return undefined;
}

export const evalStage: Stage<typeof evalStageSchema> = {
  kind: 'eval',
  description: 'score every model on the same held-out documents (same tokens, matched context); one comparison table with 95% intervals',
  schema: evalStageSchema,
  inputs: {
    tokenizer: { kinds: ['tokenizer'], description: 'the dataset whose held-out documents are scored' },
    models: { kinds: ['token-lm', 'sllm', 'svae', ...CONCEPT_HEAD_KINDS, 'bench'], many: true, description: 'the models to compare (and bench stages with their speed figures)' },
  },
  packages: ['@sentencelab/data', '@sentencelab/metrics'],
  trains: false,
  checkInputs: evalInputsCheck,
  async run(ctx) {
    const c = ctx.config;
    const registry = ctx.stages;
    const data = await loadData(datasetDirOf(tokenizerArtifact(ctx.inputs)));
    const docs = pickDocuments(await data.split(c.split), c.documents, 2);
    if (docs.length === 0) throw new Error(`stage ${ctx.name}: the ${c.split} split has no document with 2 or more sentences`);
    const sentences = docs.map((d) => d.sentences);
    const bytes = scoredBytes(docs.map((d) => d.texts));
    const bytesTotal = bytes.reduce((a, b) => a + b, 0);
    const inputs = ctx.inputs['models'] as Artifact[];
    const benches = inputs.filter((a) => a.kind === 'bench');
    const models = inputs.filter((a) => a.kind !== 'bench');
    const predictors = models.filter((a) => registry.get(a.kind)?.scorer !== undefined);
    const scorers = await Promise.all(predictors.map(async (a) => ({ name: a.stage, scorer: await registry.get(a.kind)!.scorer!(a) })));
    let ppl: PerplexityComparison | undefined;
    const kvAnalytical = new Map<string, number>();
    const kvTokensPerPosition = new Map<string, number>();
    const brier = new Map<string, Record<string, number>>();
    const brierItemsOf = new Map<string, BrierItem[][]>();
    let contextNote = '';
    let brierNote = '';
    try {
      if (scorers.length > 0) {
        const longest = Math.max(...sentences.flatMap((d) => d.slice(1).map((s) => s.length)));
        const limit = matchedBudget(scorers.map((s) => s.scorer), longest);
        const maxTokens = c.contextTokens ?? limit.maxTokens;
        const starts = sentences.map((d) => matchedContextStarts(d, { maxTokens, maxSentences: limit.maxSentences }));
        const matchedNote = `each sentence after the earlier whole sentences within ${maxTokens} tokens${Number.isFinite(limit.maxSentences) ? ` and ${limit.maxSentences} sentences` : ''} (at least one), the same for every model`;
        contextNote = c.context === 'matched' ? `matched context: ${matchedNote}` : 'unmatched context: each model reads the documents in its own windows';
        ppl = await perplexityOverDocuments(scorers, sentences, { log: ctx.log, eos: data.ids.eos, ...(c.context === 'matched' ? { contextStarts: starts } : {}) });
        const tokensPerSentence = meanTokensPerSentence(sentences);
        for (const s of scorers) {
          kvAnalytical.set(s.name, analyticalKvBytesPerToken(s.scorer.kv, tokensPerSentence));
          kvTokensPerPosition.set(s.name, tokensPerCachePosition(s.scorer.kv, tokensPerSentence));
        }
        if (c.brierSentences > 0) {
          for (const s of scorers) {
            const items = await brierItems(s.scorer.sampleNext, sentences, starts, { limit: c.brierSentences, eos: data.ids.eos, seed: ctx.seed });
            const f = brierFigures(items, { resamples: c.resamples, seed: ctx.seed });
            brier.set(s.name, f);
            brierItemsOf.set(s.name, items);
            ctx.log(`${s.name}: BrierLM ${f['brier_lm']!.toFixed(2)}, Brier-1 ${f['brier_1']!.toFixed(4)} over ${f['brier_sentences']} next sentences (2 samples each; matched context)`);
          }
          brierNote = `BrierLM: 100 x geometric mean of Brier-1..${BRIER_TOKENS} on the first ${BRIER_TOKENS} ids of each of ${c.brierSentences} next sentences spread evenly over the documents, 2 samples each (temperature 1) after the matched context (${matchedNote}); concept heads: through the SentenceVAE decoder after their own windows, on their stage's test documents`;
        }
      }
    } finally {
      for (const s of scorers) s.scorer.dispose();
    }
    // c.baseline is one of the models (evalInputsCheck, when the pipeline was planned).
    const baseline = c.baseline ?? models.find((a) => a.kind === 'token-lm')?.stage ?? null;
    const basePpl = ppl?.models.find((m) => m.name === baseline);
    // The heads' baseline: the eval's when it is a head, else the first head.
    const isHead = (a: Artifact) => isConceptHeadKind(a.kind);
    const baseHead = models.find((a) => isHead(a) && a.stage === baseline) ?? models.find(isHead);
    // A head's own baseline head where headBaselines names one (checked when the pipeline was planned).
    const baseHeadOf = (a: Artifact) => (c.headBaselines[a.stage] === undefined ? baseHead : models.find((m) => m.stage === c.headBaselines[a.stage]));
    const headLines: string[] = [];
    // Each model's compute-matched token LM among these models: the token-lm trained with flopsOf: it, or with its FLOPs.
    const matchedLm = computeMatches(models);
    const rows: ModelResult[] = [];
    const stored: Record<string, Record<string, EvalValue>> = {};
    for (const a of models) {
      const results = numbersOf((a.meta['eval'] as unknown) ?? {});
      // Its training compute with the stages it builds on, where every one of them counted FLOPs.
      const flops = countedFlops(a);
      if (flops !== null) results['training_tflop'] = flops / 1e12;
      const extra: Record<string, EvalValue> = {};
      const sampler = samplerOf(a);
      if (sampler !== undefined) extra['sampler'] = sampler;
      const byHorizon = (a.meta['eval'] as Record<string, EvalValue> | undefined)?.[ES_BY_HORIZON_KEY];
      if (byHorizon !== undefined) extra[ES_BY_HORIZON_KEY] = byHorizon;
      for (const b of benches) Object.assign(results, numbersOf((b.meta['results'] as Record<string, unknown> | undefined)?.[a.stage]));
      const p = ppl?.models.find((m) => m.name === a.stage);
      if (p) {
        const ci = bootstrapRatio(p.documents, { resamples: c.resamples, seed: ctx.seed, transform: (r) => Math.exp(-r) });
        // Per byte of the scored text: comparable across units and tokenizers (PPL per token is not).
        const perByte = p.documents.map((d, i) => ({ num: d.num, den: bytes[i]! }));
        const bpbCi = bootstrapRatio(perByte, { resamples: c.resamples, seed: ctx.seed, transform: (r) => -r / Math.LN2 });
        Object.assign(results, {
          ppl: p.ppl,
          ...intervalEntries('ppl', ci),
          ppl_tokens: p.tokens,
          bits_per_byte: bitsPerByte(p.logProb, bytesTotal),
          ...intervalEntries('bits_per_byte', bpbCi),
          ppl_bytes: bytesTotal,
          context_tokens_mean: p.context.mean,
          context_tokens_min: p.context.min,
          context_tokens_max: p.context.max,
          kv_bytes_per_token: kvAnalytical.get(a.stage)!,
          eval_documents: docs.length,
        });
        // The bench's measured bytes per cache position, per context token over these documents (as the analytical figure).
        const perPosition = results['kv_bytes_per_position_measured'];
        if (perPosition !== undefined) results['kv_bytes_per_token_measured'] = perPosition / kvTokensPerPosition.get(a.stage)!;
        if (basePpl && basePpl !== p) {
          // Paired: the same documents drawn for both models, so what the documents share cancels.
          const paired = pairedBootstrapRatio(p.documents, basePpl.documents, { resamples: c.resamples, seed: ctx.seed, transform: (r) => Math.exp(-r) });
          const ratioKey = PAIRED_COMPARISONS.get('ppl')!.key;
          Object.assign(results, { [ratioKey]: p.ppl / basePpl.ppl, ...intervalEntries(ratioKey, paired) });
          extra[pairedBaselineKey(ratioKey)] = basePpl.name;
        }
        // Over its compute-matched token LM's, paired likewise: the comparison at equal training FLOPs.
        const matched = ppl!.models.find((m) => m.name === matchedLm.get(a.stage)?.lm);
        if (matched) {
          const paired = pairedBootstrapRatio(p.documents, matched.documents, { resamples: c.resamples, seed: ctx.seed, transform: (r) => Math.exp(-r) });
          const key = MATCHED_PPL_COMPARISON.key;
          Object.assign(results, { [key]: p.ppl / matched.ppl, ...intervalEntries(key, paired) });
          extra[pairedBaselineKey(key)] = matched.name;
        }
        // tok/s over the baseline's pass by pass, from the bench that timed both (their passes interleaved).
        const speed = baseline === null || baseline === a.stage ? undefined : benchPassRatios(benches, a.stage, baseline);
        if (speed) {
          const ratio = PAIRED_COMPARISONS.get('tokens_per_s')!;
          const range = rangeKeys(ratio.key);
          Object.assign(results, { [ratio.key]: speed.median, [range.low]: speed.low, [range.high]: speed.high, [aboveOneKey(ratio.key)]: speed.above });
          extra[pairedBaselineKey(ratio.key)] = baseline!;
        }
        Object.assign(results, brier.get(a.stage) ?? {});
        // Brier over the baseline's, paired: the same next sentences, the same documents drawn for both.
        const items = brierItemsOf.get(a.stage);
        const baseItems = baseline === null || baseline === a.stage ? undefined : brierItemsOf.get(baseline);
        if (items && baseItems) {
          Object.assign(results, pairedBrierDifferences(items, baseItems, { resamples: c.resamples, seed: ctx.seed }));
          for (const k of ['brier_lm', 'brier_1'] as const) extra[pairedBaselineKey(PAIRED_COMPARISONS.get(k)!.key)] = baseline!;
        }
        extra[PPL_BY_CONTEXT_KEY] = Object.fromEntries(p.byContext.map((b) => [b.bucket, { ppl: b.tokens === 0 ? null : b.ppl, tokens: b.tokens, sentences: b.sentences }]));
        extra['ppl_fingerprint'] = p.fingerprint;
        extra['ppl_context'] = ppl!.context;
      }
      const base = isHead(a) ? baseHeadOf(a) : undefined;
      if (base && base !== a) Object.assign(results, pairWithBaseHead(a, base, extra, headLines, { resamples: c.resamples, seed: ctx.seed }));
      rows.push({ stage: a.stage, kind: a.kind, ...(a.runDir ? { runDir: a.runDir } : {}), results });
      stored[a.stage] = { ...results, ...extra };
      if (a.runDir) await mergeEvalResults(a.runDir, { ...results, ...extra });
    }
    // Printed once, under the tables (the run command also prints them before training).
    const matching = matchingReport(predictors.map(predictorProfile), baseline);
    const lines: string[] = [];
    lines.push(`${docs.length} ${c.split} documents; PPL over sentences 2..N of each (+ EOS)${ppl ? `: ${ppl.tokens} tokens (${bytesTotal} bytes of text: bits/byte compares models that cut or tokenize it differently), the same ids for every model (scored-id fingerprint ${ppl.fingerprint}); ${contextNote}` : ''}`);
    lines.push('[low, high]: 95% bootstrap interval over the documents (a figure measured on a single document has none)');
    if (brierNote) lines.push(brierNote);
    lines.push('');
    // Tables, each with the columns its rows have: the token predictors (scored on the shared
    // tokens; quality, then generation), the concept heads (L2 and their baselines), the rest
    // (the SentenceVAE's reconstruction).
    const predictorRows = rows.filter((r) => r.results['ppl_tokens'] !== undefined);
    const otherRows = rows.filter((r) => r.results['ppl_tokens'] === undefined);
    const tables: string[] = [];
    if (predictorRows.length > 0) {
      tables.push(comparisonTable(predictorRows, baseline, 'quality'));
      if ([...GENERATION_KEYS].some((k) => predictorRows.some((r) => r.results[k] !== undefined))) {
        const repeats = predictorRows.map((r) => r.results['speed_repeats']).find((n) => n !== undefined);
        const perPass = predictorRows.some((r) => r.results[PAIRED_COMPARISONS.get('tokens_per_s')!.key] !== undefined);
        const speedNote =
          (repeats === undefined ? '' : `; tok/s: median of ${repeats} timed passes (their range)`) +
          (perPass && baseline !== null ? `; tok/s x${baseline}: median of the per-pass ratios, passes interleaved (their range)` : '');
        tables.push(`Generation (the bench stage: batch 1, greedy, the same token budget per prompt${speedNote}):\n${comparisonTable(predictorRows, baseline, 'generation')}`);
      }
    }
    const heads = otherRows.filter((r) => r.results['l2'] !== undefined);
    if (heads.length > 0) {
      // Two tables, so that neither is 370 characters wide: the heads as distributions of the next
      // vector, then as points (the LCM paper's figures); their reference predictors as rows under them.
      const references = headReferenceRows(heads);
      const of = (key: EvalKey) => references.filter((r) => r.results[key] !== undefined);
      tables.push(`Concept heads as distributions of the next vector (lower energy score is better; spread / skill is 1 for draws as spread as the targets):\n${comparisonTable([...heads, ...of('energy_score')], null, 'distribution')}`);
      tables.push(`Concept heads as points (the LCM paper's figures; lower L2, higher contrastive accuracy is better):\n${comparisonTable([...heads, ...of('l2')], null, 'point')}`);
      const ahead = heads.map((r) => r.results['ahead_targets']).find((n) => n !== undefined);
      if (ahead !== undefined) tables.push(`Concept heads two sentences ahead, each reading its own draw of the sentence before, as it generates (${ahead} targets; lower energy score is better):\n${comparisonTable([...heads, ...of('energy_score_ahead')], null, 'ahead')}`);
      const byHorizon = horizonTable(heads.map((r) => ({ stage: r.stage, kind: r.kind, family: stored[r.stage]?.[ES_BY_HORIZON_KEY] })));
      if (byHorizon !== undefined) tables.push(byHorizon);
    }
    const rest = otherRows.filter((r) => r.results['l2'] === undefined);
    if (rest.length > 0) tables.push(comparisonTable(rest, null));
    // The heads' figures depend on how each draws its vector: printed under their table.
    // A diffusion head's line also says which way its validation figures would turn the sampler (spreadHint).
    const samplers = rows.flatMap((r) => {
      const sampler = stored[r.stage]?.['sampler'];
      if (typeof sampler !== 'string') return [];
      const hint = r.kind === 'lcm-diffusion' ? spreadHint(r.results) : '';
      return [`  ${r.stage}: ${sampler}${hint ? `; ${hint}` : ''}`];
    });
    if (samplers.length > 0) tables.push(['How each concept head draws the next vector (its L2, energy score and contrastive accuracy depend on it):', ...samplers].join('\n'));
    lines.push(tables.join('\n\n'));
    if (ppl) lines.push('', `PPL by context tokens behind each scored sentence (${ppl.context} context), PPL (scored tokens):`, contextTable(ppl));
    const overlaps = [
      ...overlapLines(rows, ['ppl'], docs.length),
      ...pairedLines(rows, baseline, docs.length, ['ppl']),
      ...matchedLines(rows, matchedLm, docs.length),
      ...overlapLines(rows, ['brier_lm', 'brier_1'], docs.length),
      // The token predictors' (the heads' Brier is paired with the baseline head: headLines).
      ...pairedLines(predictorRows, baseline, docs.length, ['brier_lm', 'brier_1', 'tokens_per_s']),
      ...headLines,
    ];
    const crossChecks = rows.flatMap((r) => {
      const a = r.results['kv_bytes_per_token'];
      const m = r.results['kv_bytes_per_token_measured'];
      const r2 = r.results['kv_fit_r2'];
      // Both per context token over the eval documents; measured: the bench's bytes per cache position, on its prompts' caches.
      return a === undefined || m === undefined ? [] : [`KV bytes per context token, ${r.stage}: analytical ${formatCell(a)} vs measured on the caches ${formatCell(m)} (${((100 * (m - a)) / a).toFixed(1)}%${r2 === undefined ? '' : `, fit r2 ${r2.toFixed(3)}`})`];
    });
    const budgets = unequalBudgets(rows);
    const flagged = rows
      .filter((r) => copyPrevFlag(r.results) === 'DOES NOT BEAT')
      .map((r) => `${r.stage} does not beat the copy-previous baseline on both figures (L2 ${formatCell(r.results['l2'])} vs ${formatCell(r.results['l2_copy_prev'])}, lower is better; contrastive acc ${formatCell(r.results['contrastive_acc'])} vs ${formatCell(r.results['contrastive_acc_copy_prev'])}, higher is better)`);
    if (overlaps.length + crossChecks.length + budgets.length + flagged.length > 0) lines.push('', ...overlaps, ...crossChecks, ...budgets, ...flagged);
    if (matching.lines.length + matching.warnings.length > 0) lines.push('', ...matching.lines, ...matching.warnings);
    const text = lines.join('\n');
    writeFileSync(join(ctx.outDir, 'comparison.txt'), `${text}\n`);
    writeFileSync(
      join(ctx.outDir, 'comparison.json'),
      JSON.stringify({ documents: docs.map((d) => d.id), baseline, fingerprint: ppl?.fingerprint ?? null, context: ppl?.context ?? null, rows, warnings: matching.warnings, results: stored, ...(ppl ? { pplByContext: ppl.models.map((m) => ({ name: m.name, buckets: m.byContext })) } : {}) }, null, 2) + '\n',
    );
    return { files: { table: 'comparison.txt', results: 'comparison.json' }, meta: { table: text, rows, baseline } };
  },
};
