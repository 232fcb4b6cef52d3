/**
 * Which of a SentenceVAE's own figures foretells the SLLM trained on it: Spearman's rank
 * correlation of each figure with the SLLM's PPL over every SentenceVAE + SLLM pair of an
 * experiment (every stage and seed), beside the |rho| that tells an ordering from chance at 5%.
 */
import { spearman, spearmanCritical } from '@sentencelab/metrics';
import type { RunInfoOk } from '@sentencelab/runs';
import { canonicalJson } from '../stages/hash.js';
import { markdownTable } from '../table.js';
import { figureValue, LAST_VALUE, stageConfigView, type StageResults } from './points.js';

/** A SentenceVAE run and the run of an SLLM trained on it. */
export interface SvaeSllmPair {
  svaeStage: string;
  svae: RunInfoOk;
  sllmStage: string;
  sllm: RunInfoOk;
}

/** The SentenceVAE figures set against the SLLM's PPL: summary.json eval keys, or `<metric>@last`. */
export const SVAE_PREDICTORS: readonly { key: string; label: string }[] = [
  { key: 'recon_ppl', label: 'reconstruction PPL (teacher-forced)' },
  { key: 'recon_token_acc', label: 'reconstruction token accuracy (greedy)' },
  { key: 'recon_exact_match', label: 'sentences reconstructed exactly (greedy)' },
  { key: 'recon_bleu', label: 'reconstruction BLEU (greedy)' },
  { key: 'recon_noise_half', label: 'noise at which half of what the vector carries is lost' },
  { key: `val/recon_loss_gap${LAST_VALUE}`, label: 'what the vector carries: shuffled minus own vectors, last evaluation' },
  { key: 'val_kl', label: 'KL per sentence (variational)' },
];

interface StageSection {
  inputs?: Record<string, unknown>;
}

/** The pipeline config of a run, as far as pairing reads it. */
interface PairingConfig {
  stages?: Record<string, StageSection>;
}

/**
 * Every SLLM run with the SentenceVAE run it was trained on: the run of the stage its
 * `inputs.svae` names whose config made that stage as the SLLM's did ({@link stageConfigView}:
 * seed, data, backend and the sections it builds on, wherever the two runs' whole configs differ
 * elsewhere, as when stages were added to a config between runs). SLLMs whose SentenceVAE run
 * is not among `stages` are left out.
 */
export function svaeSllmPairs(stages: readonly StageResults[]): SvaeSllmPair[] {
  const identity = (c: unknown, svaeStage: string) => `${svaeStage}\u0000${canonicalJson(stageConfigView(c, svaeStage))}`;
  // Each SentenceVAE run under what of its config made it (the first of equals, as a search would find).
  const svaeRuns = new Map<string, RunInfoOk>();
  for (const s of stages.filter((x) => x.kind === 'svae')) {
    for (const r of s.points.flatMap((p) => p.runs)) {
      const key = identity(r.config, s.stage);
      if (!svaeRuns.has(key)) svaeRuns.set(key, r);
    }
  }
  const pairs: SvaeSllmPair[] = [];
  for (const s of stages.filter((x) => x.kind === 'sllm')) {
    for (const sllm of s.points.flatMap((p) => p.runs)) {
      const config = (sllm.config ?? {}) as PairingConfig;
      const svaeStage = config.stages?.[s.stage]?.inputs?.['svae'];
      if (typeof svaeStage !== 'string') continue;
      const svae = svaeRuns.get(identity(sllm.config, svaeStage));
      if (svae) pairs.push({ svaeStage, svae, sllmStage: s.stage, sllm });
    }
  }
  return pairs;
}

/** One predictor's correlation with the SLLMs' PPL. */
export interface PredictorCorrelation {
  key: string;
  label: string;
  /** Spearman's rho of the figure with the SLLM's PPL: +1, the larger the figure the worse the SLLM. */
  rho: number;
  /** Pairs that have both figures. */
  n: number;
  /** The |rho| that tells an ordering of n pairs from chance at the two-sided 5% level; undefined below 4 pairs. */
  critical: number | undefined;
}

/** Each predictor's rank correlation with the SLLM's PPL over `pairs` (figures that at least 3 pairs have and that vary). */
export function predictorCorrelations(pairs: readonly SvaeSllmPair[]): PredictorCorrelation[] {
  const out: PredictorCorrelation[] = [];
  for (const p of SVAE_PREDICTORS) {
    const both = pairs.flatMap((x) => {
      const [f, ppl] = [figureValue(x.svae, p.key), figureValue(x.sllm, 'ppl')];
      return f === undefined || ppl === undefined ? [] : [[f, ppl] as const];
    });
    const rho = spearman(both.map((b) => b[0]), both.map((b) => b[1]));
    if (rho !== undefined) out.push({ ...p, rho, n: both.length, critical: spearmanCritical(both.length) });
  }
  return out;
}

/** The Markdown section, or undefined when fewer than 4 pairs make it. */
export function predictorSection(stages: readonly StageResults[]): string[] | undefined {
  const pairs = svaeSllmPairs(stages);
  const rows = predictorCorrelations(pairs);
  if (pairs.length < 4 || rows.length === 0) return undefined;
  const sllmStages = [...new Set(pairs.map((p) => p.sllmStage))];
  return [
    "## What the SentenceVAE's figures say of its SLLM",
    '',
    `Spearman's rank correlation of each SentenceVAE figure with the PPL of the SLLM trained on that SentenceVAE, over every pair in these runs (${pairs.length}: ${sllmStages.join(', ')}, every seed, pooled): +1, the larger the figure, the worse the SLLM, in the same order; -1, the larger, the better; 0, no order. A correlation whose |rho| is below the 5% value for its pairs (two-sided, t approximation) cannot be told from chance. It says which figure ordered these models, not why: pooled variants differ in more than the figure.`,
    '',
    markdownTable(
      ['SentenceVAE figure', 'rho with SLLM PPL', 'pairs', '|rho| needed at 5%', 'told from chance'],
      rows.map((r) => [
        `\`${r.key}\`: ${r.label}`,
        r.rho.toFixed(2),
        String(r.n),
        r.critical === undefined ? '- (under 4 pairs)' : r.critical.toFixed(2),
        r.critical === undefined ? 'no' : Math.abs(r.rho) >= r.critical ? 'yes' : 'no',
      ]),
    ),
  ];
}
