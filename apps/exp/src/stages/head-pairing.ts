/**
 * Two concept heads compared on the same targets: each head's stage keeps, beside its figures,
 * its per-document sums of the per-target energy score and a fingerprint of the targets they
 * were scored against (the test sentences' embeddings by the SentenceVAE, in order, and which
 * document each belongs to). The eval stage pairs two heads whose fingerprints are equal: the
 * difference of their energy scores target by target, with a 95% bootstrap interval over the
 * documents that draws the same documents for both (what the targets share cancels, as the
 * token predictors' paired PPL). Heads over another SentenceVAE or other test documents score
 * other targets: they are not paired.
 */
import { createHash } from 'node:crypto';
import { bootstrapRatio, type Interval } from '@sentencelab/metrics';

/** What a head's artifact keeps for pairing (`meta.pairing`). */
export interface HeadPairing {
  /** sha256 of the targets (their float32 bytes) and the document of each, hex. */
  fingerprint: string;
  /** Per test document: its targets, and the sum of the head's energy score over them. */
  documents: { targets: number; energyScore: number }[];
}

/**
 * A head's pairing record from its per-target energy scores (`scores[i]` against `targets[i]`,
 * of test document `docOf[i]`; `documents` test documents in all).
 */
export function headPairing(targets: readonly Float32Array[], docOf: readonly number[], scores: readonly number[], documents: number): HeadPairing {
  if (targets.length !== docOf.length || scores.length !== targets.length) throw new Error(`headPairing: ${targets.length} targets, ${docOf.length} documents of them, ${scores.length} scores`);
  const hash = createHash('sha256');
  targets.forEach((t, i) => {
    hash.update(Int32Array.of(docOf[i]!));
    hash.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  });
  const out = Array.from({ length: documents }, () => ({ targets: 0, energyScore: 0 }));
  scores.forEach((s, i) => {
    out[docOf[i]!]!.targets += 1;
    out[docOf[i]!]!.energyScore += s;
  });
  return { fingerprint: hash.digest('hex'), documents: out };
}

/** A head's pairing record in an artifact's meta, or undefined (an artifact made before it was kept). */
export function pairingOf(meta: Record<string, unknown>): HeadPairing | undefined {
  const p = meta['pairing'] as Partial<HeadPairing> | undefined;
  return p && typeof p.fingerprint === 'string' && Array.isArray(p.documents) ? (p as HeadPairing) : undefined;
}

/**
 * Head `a`'s energy score minus head `b`'s over the same targets (mean over targets) with its
 * paired 95% interval over the documents; `other targets` when their fingerprints differ.
 */
export function pairedEnergyScore(a: HeadPairing, b: HeadPairing, o: { resamples: number; seed: number }): { difference: number; interval: Interval | undefined } | 'other targets' {
  if (a.fingerprint !== b.fingerprint) return 'other targets';
  const sums = a.documents.map((d, i) => ({ num: d.energyScore - b.documents[i]!.energyScore, den: d.targets }));
  const total = sums.reduce((s, d) => ({ num: s.num + d.num, den: s.den + d.den }), { num: 0, den: 0 });
  return { difference: total.num / total.den, interval: bootstrapRatio(sums, { resamples: o.resamples, seed: o.seed }) };
}
