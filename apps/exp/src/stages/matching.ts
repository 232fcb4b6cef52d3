/**
 * Whether a comparison of token predictors (token LM, SLLM) is like for like beyond the scored
 * tokens: the same training objective, and parameter counts within {@link PARAMS_TOLERANCE}.
 * The eval stage prints every predictor's profile and a warning for each pair that differs.
 */
import { SLLM, TokenLM } from '@sentencelab/latent-lm';
import type { Artifact, PipelineConfig } from './types.js';

/** Parameter counts further apart than this (larger / smaller - 1) are not matched. */
export const PARAMS_TOLERANCE = 0.1;

/** The token loss a predictor was trained with, and its size. */
export interface PredictorProfile {
  stage: string;
  kind: string;
  /** All parameters (an SLLM's include its SentenceVAE); null when the artifact does not say. */
  params: number | null;
  /** `cross-entropy` or `focal (gamma g)`. */
  objective: string;
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
  return { stage: a.stage, kind: a.kind, params: typeof params === 'number' ? params : null, objective: objectiveOf(a.kind, a.meta['config']) };
}

/**
 * One line per predictor (params, objective, params ratio to the reference), then a warning per
 * predictor whose objective or parameter count differs from the reference's: the `baseline`
 * stage when it is a predictor, else the first.
 */
export function matchingReport(profiles: readonly PredictorProfile[], baseline: string | null): { lines: string[]; warnings: string[] } {
  const ref = profiles.find((p) => p.stage === baseline) ?? profiles[0];
  if (ref === undefined || profiles.length < 2) return { lines: [], warnings: [] };
  const lines = profiles.map((p) => {
    const ratio = p.params !== null && ref.params !== null && ref.params > 0 ? ` (x${(p.params / ref.params).toFixed(2)} ${ref.stage})` : '';
    return `${p.stage} (${p.kind}): ${p.params === null ? '? parameters' : `${p.params.toLocaleString('en-US')} parameters`}${ratio}, trained with ${p.objective}`;
  });
  const warnings: string[] = [];
  for (const p of profiles) {
    if (p === ref) continue;
    if (p.objective !== ref.objective) {
      warnings.push(`warning: ${p.stage} trained with ${p.objective}, ${ref.stage} with ${ref.objective}: their PPLs compare different objectives`);
    }
    if (p.params !== null && ref.params !== null) {
      const [lo, hi] = p.params < ref.params ? [p.params, ref.params] : [ref.params, p.params];
      if (lo <= 0 || hi - lo > PARAMS_TOLERANCE * lo) {
        warnings.push(
          `warning: ${p.stage} has ${p.params.toLocaleString('en-US')} parameters, ${ref.stage} ${ref.params.toLocaleString('en-US')}: ${((hi / lo - 1) * 100).toFixed(0)}% apart, more than ${PARAMS_TOLERANCE * 100}%`,
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
