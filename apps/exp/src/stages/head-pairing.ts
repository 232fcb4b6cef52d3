/**
 * Two concept heads compared on the same targets: each head's stage keeps, beside its figures,
 * its per-document sums of the per-target energy score (and, over a variational SentenceVAE, of
 * the energy score against a posterior draw of each target), L2 and contrastive accuracy, its
 * energy scores two sentences ahead over the targets it rolled out, and a fingerprint of the
 * targets they
 * were scored against (the test sentences' embeddings by the SentenceVAE, in order, and which
 * document each belongs to). The eval stage pairs two heads whose fingerprints are equal: the
 * difference of their energy scores target by target, with a 95% bootstrap interval over the
 * documents that draws the same documents for both (what the targets share cancels, as the
 * token predictors' paired PPL). Heads over another SentenceVAE or other test documents score
 * other targets: they are not paired. Their BrierLM items, kept too, pair the same way (the
 * same next sentences of the same documents).
 */
import { createHash } from 'node:crypto';
import { bootstrapRatio, pairedBrierDifferences, sameBrierItems, type BrierItem, type Interval } from '@sentencelab/metrics';

/**
 * The per-target scores a head keeps for pairing: its energy score against the targets, and (a
 * variational SentenceVAE's) against one posterior draw of each; its L2 to the targets and its
 * contrastive accuracy (the LCM paper's figures).
 */
export type PairedScore = 'energyScore' | 'energyScorePosterior' | 'l2' | 'contrastiveAcc' | AheadScore;

/** The per-target scores two sentences ahead, over the subset of targets the head rolled out (`aheadSentences`). */
export type AheadScore = 'energyScoreAhead' | 'energyScoreAheadPosterior';

/** Whether a paired score is one two sentences ahead (over the rolled-out targets only). */
export function isAhead(score: PairedScore): score is AheadScore {
  return score === 'energyScoreAhead' || score === 'energyScoreAheadPosterior';
}

/** What a head's artifact keeps for pairing (`meta.pairing`). */
export interface HeadPairing {
  /** sha256 of the targets (their float32 bytes) and the document of each, hex. */
  fingerprint: string;
  /**
   * Per test document: its targets, and the sums of the head's scores over them; the scores two
   * sentences ahead summed over its `aheadTargets` only.
   */
  documents: ({ targets: number; aheadTargets?: number } & Partial<Record<PairedScore, number>>)[];
  /** sha256 of which targets (indices in target order) were rolled out two sentences ahead, hex: two heads pair ahead only on the same ones. */
  aheadPicks?: string;
  /** Its BrierLM items per test document (samples decoded through the SentenceVAE), where it has BrierLM. */
  brier?: BrierItem[][];
}

/** The scores two sentences ahead: over targets `picks` (indices into the targets), `scores.energyScoreAhead[j]` against target `picks[j]`. */
export interface AheadScores {
  picks: readonly number[];
  scores: Partial<Record<AheadScore, readonly number[]>>;
}

/**
 * A head's pairing record from its per-target scores (`scores.energyScore[i]` against
 * `targets[i]`, of test document `docOf[i]`; `documents` test documents in all), and its scores
 * two sentences ahead over the targets it rolled out.
 */
export function headPairing(targets: readonly Float32Array[], docOf: readonly number[], scores: Partial<Record<Exclude<PairedScore, AheadScore>, readonly number[]>>, documents: number, ahead?: AheadScores): HeadPairing {
  const hash = createHash('sha256');
  targets.forEach((t, i) => {
    hash.update(Int32Array.of(docOf[i]!));
    hash.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  });
  const out: HeadPairing['documents'] = Array.from({ length: documents }, () => ({ targets: 0 }));
  docOf.forEach((d) => (out[d]!.targets += 1));
  for (const [name, values] of Object.entries(scores) as [PairedScore, readonly number[]][]) {
    if (docOf.length !== targets.length || values.length !== targets.length) throw new Error(`headPairing: ${targets.length} targets, ${docOf.length} documents of them, ${values.length} scores (${name})`);
    out.forEach((d) => (d[name] = 0));
    values.forEach((v, i) => (out[docOf[i]!]![name]! += v));
  }
  if (!ahead) return { fingerprint: hash.digest('hex'), documents: out };
  out.forEach((d) => (d.aheadTargets = 0));
  ahead.picks.forEach((k) => (out[docOf[k]!]!.aheadTargets! += 1));
  for (const [name, values] of Object.entries(ahead.scores) as [AheadScore, readonly number[]][]) {
    if (values.length !== ahead.picks.length) throw new Error(`headPairing: ${ahead.picks.length} targets rolled out, ${values.length} scores (${name})`);
    out.forEach((d) => (d[name] = 0));
    values.forEach((v, j) => (out[docOf[ahead.picks[j]!]!]![name]! += v));
  }
  const picks = createHash('sha256').update(Int32Array.from(ahead.picks)).digest('hex');
  return { fingerprint: hash.digest('hex'), documents: out, aheadPicks: picks };
}

/** A head's pairing record in an artifact's meta, or undefined (an artifact made before it was kept). */
export function pairingOf(meta: Record<string, unknown>): HeadPairing | undefined {
  const p = meta['pairing'] as Partial<HeadPairing> | undefined;
  return p && typeof p.fingerprint === 'string' && Array.isArray(p.documents) ? (p as HeadPairing) : undefined;
}

/**
 * Head `a`'s score minus head `b`'s over the same targets (mean over targets) with its paired
 * 95% interval over the documents; `other targets` when their fingerprints differ, undefined
 * when either kept no such score.
 */
export function pairedScore(a: HeadPairing, b: HeadPairing, score: PairedScore, o: { resamples: number; seed: number }): { difference: number; interval: Interval | undefined } | 'other targets' | undefined {
  if (a.fingerprint !== b.fingerprint) return 'other targets';
  if (a.documents.some((d) => d[score] === undefined) || b.documents.some((d) => d[score] === undefined)) return undefined;
  // Ahead, over the targets both rolled out (another aheadSentences or maxSentences picks others).
  if (isAhead(score) && a.aheadPicks !== b.aheadPicks) return 'other targets';
  const sums = a.documents.map((d, i) => ({ num: d[score]! - b.documents[i]![score]!, den: isAhead(score) ? d.aheadTargets! : d.targets }));
  const total = sums.reduce((s, d) => ({ num: s.num + d.num, den: s.den + d.den }), { num: 0, den: 0 });
  return { difference: total.num / total.den, interval: bootstrapRatio(sums, { resamples: o.resamples, seed: o.seed }) };
}

/**
 * Head `a`'s BrierLM and Brier-1 minus head `b`'s on the same next sentences, paired over the
 * documents (`brier_lm_diff`, `brier_1_diff` and their intervals); `other sentences` when they
 * were rated on other items (other targets, or another `brierSentences`), undefined when either
 * has no BrierLM.
 */
export function pairedBrier(a: HeadPairing, b: HeadPairing, o: { resamples: number; seed: number }): Record<string, number> | 'other sentences' | undefined {
  if (!a.brier || !b.brier) return undefined;
  if (a.fingerprint !== b.fingerprint || !sameBrierItems(a.brier, b.brier)) return 'other sentences';
  return pairedBrierDifferences(a.brier, b.brier, o);
}
