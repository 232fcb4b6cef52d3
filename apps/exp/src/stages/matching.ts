/**
 * Whether a comparison of token predictors (token LM, SLLM) is like for like beyond the scored
 * tokens: the same training objective, parameter counts within {@link PARAMS_TOLERANCE}, and
 * training compute (the stages each builds on included) within {@link COMPUTE_TOLERANCE}: in
 * training FLOPs where every stage counted them, else wall seconds where every stage ran on a GPU
 * backend, else CPU seconds (see `commonMeasure`). The eval stage prints every predictor's
 * profile and a warning for each pair that differs.
 */
import { SLLM, TokenLM } from '@sentencelab/latent-lm';
import { formatFlops } from '@sentencelab/tensor';
import { amountOf, commonMeasure, computeOf, totalCost, type ComputeMeasure, type StageCompute } from '../pipeline/compute.js';
import type { Artifact, PipelineConfig } from './types.js';

/** Parameter counts further apart than this (larger / smaller - 1) are not matched. */
export const PARAMS_TOLERANCE = 0.1;

/** Training compute (FLOPs, else seconds) further apart than this (larger / smaller - 1) is not matched. */
export const COMPUTE_TOLERANCE = 0.25;

/** The token loss a predictor was trained with, and its size. */
export interface PredictorProfile {
  stage: string;
  kind: string;
  /** All parameters (an SLLM's include its SentenceVAE); null when the artifact does not say. */
  params: number | null;
  /** `cross-entropy` or `focal (gamma g)`. */
  objective: string;
  /** What it cost to train, upstream stages included; null before training or for an artifact from before costs were recorded. */
  compute: StageCompute | null;
}

interface LossLike {
  type?: unknown;
  gamma?: unknown;
}

function describeLoss(loss: LossLike | undefined, fallback: string): string {
  if (loss === undefined || typeof loss.type !== 'string') return fallback;
  if (loss.type === 'focal' && loss.gamma !== 0) return `focal (gamma ${String(loss.gamma ?? 2)})`;
  return 'cross-entropy';
}

/**
 * The token loss in a model config of `kind`: the token LM trains with cross-entropy; an SLLM
 * with its `loss` section, or, for one saved before it had one, with its SentenceVAE's loss
 * (what it inherited then, focal by default).
 */
export function objectiveOf(kind: string, config: unknown): string {
  if (kind === 'token-lm') return 'cross-entropy';
  const c = (config ?? {}) as { loss?: LossLike; svae?: { loss?: LossLike } };
  if (kind === 'sllm') return describeLoss(c.loss, describeLoss(c.svae?.loss ?? { type: 'focal', gamma: 2 }, 'focal (gamma 2)'));
  return describeLoss(c.loss, 'unknown');
}

/** A predictor's profile from its artifact (meta.config and meta.eval.params, as the training stages write them). */
export function predictorProfile(a: Pick<Artifact, 'stage' | 'kind' | 'meta'>): PredictorProfile {
  const params = (a.meta['eval'] as { params?: unknown } | undefined)?.params;
  return { stage: a.stage, kind: a.kind, params: typeof params === 'number' ? params : null, objective: objectiveOf(a.kind, a.meta['config']), compute: computeOf(a) };
}

const seconds = (s: number): string => Math.round(s).toLocaleString('en-US');

/**
 * A cost in `measure`'s terms, `full` with its unit (`2.31 TFLOP`, `597 CPU s`, `97 wall s on
 * webgpu`) and `bare` without it where the unit is seconds (`2.31 TFLOP`, `597`).
 */
function amountFormat(measure: ComputeMeasure, profiles: readonly PredictorProfile[]): { full: (v: number) => string; bare: (v: number) => string } {
  if (measure === 'flops') return { full: formatFlops, bare: formatFlops };
  const backends = [...new Set(profiles.map((p) => p.compute?.backend).filter((b) => b !== undefined))];
  const unit = measure === 'cpu' ? 'CPU s' : `wall s on ${backends.join('/')}`;
  return { full: (v) => `${seconds(v)} ${unit}`, bare: seconds };
}

/**
 * `, 2.31 TFLOP to train (svae 1.52 TFLOP, itself 787 GFLOP, tok 0 FLOP; 597 CPU s)` or
 * `, 597 CPU s to train (svae 326, itself 267, tok 4)`: the total, each stage (largest first) and,
 * where FLOPs measure it, the CPU seconds it took.
 */
function computeNote(c: StageCompute | null, measure: ComputeMeasure, format: ReturnType<typeof amountFormat>): string {
  if (c === null) return '';
  const parts = [{ ...c, stage: 'itself' }, ...Object.values(c.upstream)]
    .map((u) => ({ stage: u.stage, v: amountOf(u, measure) }))
    .sort((a, b) => b.v - a.v);
  const cpu = measure === 'flops' ? `; ${seconds(totalCost(c, 'cpu'))} CPU s` : '';
  return `, ${c.complete ? '' : 'at least '}${format.full(totalCost(c, measure))} to train (${parts.map((u) => `${u.stage} ${format.bare(u.v)}`).join(', ')}${cpu})`;
}

/** `[lo, hi]` with lo <= hi, and whether they are further apart than `tolerance` (larger / smaller - 1). */
function apart(a: number, b: number, tolerance: number): { lo: number; hi: number; differ: boolean } {
  const [lo, hi] = a < b ? [a, b] : [b, a];
  return { lo, hi, differ: lo <= 0 || hi - lo > tolerance * lo };
}

/**
 * One line per predictor (params, objective, params ratio to the reference), then a warning per
 * predictor whose objective or parameter count differs from the reference's: the `baseline`
 * stage when it is a predictor, else the first.
 */
export function matchingReport(profiles: readonly PredictorProfile[], baseline: string | null): { lines: string[]; warnings: string[] } {
  const ref = profiles.find((p) => p.stage === baseline) ?? profiles[0];
  if (ref === undefined || profiles.length < 2) return { lines: [], warnings: [] };
  // One measure for all: FLOPs only when every predictor (and what it builds on) counted them.
  const measured = profiles.filter((p) => p.compute !== null);
  const measure = commonMeasure(measured.map((p) => p.compute!));
  const format = amountFormat(measure, measured);
  const total = (c: StageCompute): number => totalCost(c, measure);
  const lines = profiles.map((p) => {
    const ratio = p.params !== null && ref.params !== null && ref.params > 0 ? ` (x${(p.params / ref.params).toFixed(2)} ${ref.stage})` : '';
    return `${p.stage} (${p.kind}): ${p.params === null ? '? parameters' : `${p.params.toLocaleString('en-US')} parameters`}${ratio}, trained with ${p.objective}${computeNote(p.compute, measure, format)}`;
  });
  const warnings: string[] = [];
  for (const p of profiles) {
    if (p === ref) continue;
    if (p.objective !== ref.objective) {
      warnings.push(`warning: ${p.stage} trained with ${p.objective}, ${ref.stage} with ${ref.objective}: their PPLs compare different objectives`);
    }
    if (p.params !== null && ref.params !== null) {
      const { lo, hi, differ } = apart(p.params, ref.params, PARAMS_TOLERANCE);
      if (differ) {
        warnings.push(
          `warning: ${p.stage} has ${p.params.toLocaleString('en-US')} parameters, ${ref.stage} ${ref.params.toLocaleString('en-US')}: ${((hi / lo - 1) * 100).toFixed(0)}% apart, more than ${PARAMS_TOLERANCE * 100}%`,
        );
      }
    }
    if (p.compute !== null && ref.compute !== null) {
      const [mine, theirs] = [total(p.compute), total(ref.compute)];
      if (apart(mine, theirs, COMPUTE_TOLERANCE).differ) {
        // Another predictor that is matched with this one (a token LM trained as long) is the fair comparison: name it.
        const matched = profiles.filter((q) => q !== p && q !== ref && q.compute !== null && !apart(total(q.compute), mine, COMPUTE_TOLERANCE).differ);
        // Else, where FLOPs were counted, how to add one to the config.
        const remedy =
          matched.length > 0
            ? ` (within ${COMPUTE_TOLERANCE * 100}% of ${p.stage}: ${matched.map((q) => q.stage).join(', ')})`
            : measure === 'flops' && p.kind !== 'token-lm' && ref.kind === 'token-lm'
              ? ` (a token-lm stage with input flopsOf: ${p.stage} would be)`
              : '';
        warnings.push(
          `warning: ${p.stage} took ${format.full(mine)} to train (with the stages it builds on), ${ref.stage} ${format.bare(theirs)}: x${(mine / theirs).toFixed(2)}, more than ${COMPUTE_TOLERANCE * 100}% apart: their PPLs are not compute-matched${remedy}`,
        );
      }
    }
  }
  return { lines, warnings };
}

/**
 * The token predictors of a pipeline config as they will be built, before any training (their
 * parameters counted on the constructed models, then disposed): what `exp run` prints at the
 * start. Vocabulary size and sentence length come from the data section, so with a
 * `tokenizer.path` (a vocabulary known only once it is loaded) there is nothing to say yet: [].
 * Needs an initialised backend.
 */
export function plannedProfiles(config: Pick<PipelineConfig, 'data' | 'stages'>): PredictorProfile[] {
  const data = config.data as { tokenizer: { vocabSize: number; path: string | null }; segment: { maxTokens: number } };
  if (data.tokenizer.path !== null) return [];
  const vocabSize = data.tokenizer.vocabSize;
  const out: PredictorProfile[] = [];
  for (const [name, section] of Object.entries(config.stages)) {
    const model = (section['model'] ?? {}) as Record<string, unknown>;
    let built: TokenLM | SLLM;
    if (section.kind === 'token-lm') built = new TokenLM({ ...model, vocabSize });
    else if (section.kind === 'sllm') {
      const svaeStage = (section.inputs as { svae?: string }).svae;
      const svae = (svaeStage !== undefined ? config.stages[svaeStage]?.['model'] : model['svae']) ?? {};
      built = new SLLM({ ...model, svae: { ...(svae as object), vocabSize, maxTokens: data.segment.maxTokens } });
    } else continue;
    out.push(predictorProfile({ stage: name, kind: section.kind, meta: { config: built.config, eval: { params: built.numParams() } } }));
    built.dispose();
  }
  return out;
}

/** The stage an eval section compares against: its `baseline`, else the first token LM (as the eval stage picks it). */
export function plannedBaseline(config: Pick<PipelineConfig, 'stages'>): string | null {
  const sections = Object.entries(config.stages);
  const evalSection = sections.find(([, s]) => s.kind === 'eval')?.[1];
  const chosen = evalSection?.['baseline'];
  if (typeof chosen === 'string') return chosen;
  return sections.find(([, s]) => s.kind === 'token-lm')?.[0] ?? null;
}
