/**
 * Two concept heads compared on the same targets: each head's stage keeps, beside its figures,
 * its per-document sums of the per-target energy score (and, over a variational SentenceVAE, of
 * the energy score against a posterior draw of each target), L2 and contrastive accuracy, and a
 * fingerprint of the targets they
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
export type PairedScore = 'energyScore' | 'energyScorePosterior' | 'l2' | 'contrastiveAcc';

/** What a head's artifact keeps for pairing (`meta.pairing`). */
export interface HeadPairing {
  /** sha256 of the targets (their float32 bytes) and the document of each, hex. */
  fingerprint: string;
  /** Per test document: its targets, and the sums of the head's scores over them. */
  documents: ({ targets: number } & Partial<Record<PairedScore, number>>)[];
  /** Its BrierLM items per test document (samples decoded through the SentenceVAE), where it has BrierLM. */
  brier?: BrierItem[][];
}

/**
 * A head's pairing record from its per-target scores (`scores.energyScore[i]` against
 * `targets[i]`, of test document `docOf[i]`; `documents` test documents in all).
 */
export function headPairing(targets: readonly Float32Array[], docOf: readonly number[], scores: Partial<Record<PairedScore, readonly number[]>>, documents: number): HeadPairing {
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
  return { fingerprint: hash.digest('hex'), documents: out };
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
  const sums = a.documents.map((d, i) => ({ num: d[score]! - b.documents[i]![score]!, den: d.targets }));
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
