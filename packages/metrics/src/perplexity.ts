/**
 * Perplexity over identical tokens: every model scores the same held-out documents, and the
 * scored token set is checked to be the same for all of them before any PPL is reported.
 */
import { createHash } from 'node:crypto';

/** A document as token ids per sentence (no BOS/EOS). */
export type Document = readonly ArrayLike<number>[];

/** What a scorer returns for one document: sentences 1..N-1 (0-based), each with its EOS. */
export interface DocumentScore {
  /** Natural-log probability of each scored sentence (its tokens and its EOS). */
  sentenceLogProbs: readonly number[];
  /** Tokens scored per sentence: its length + 1 (the EOS). */
  sentenceTokens: readonly number[];
}

/** Anything that scores a document the way `@sentencelab/latent-lm`'s TokenLM and SLLM do. */
export interface Scorer {
  scoreDocument(sentences: Document): DocumentScore | Promise<DocumentScore>;
}

export interface NamedScorer {
  name: string;
  scorer: Scorer;
}

export interface ModelPerplexity {
  name: string;
  /** exp(-logProb / tokens). */
  ppl: number;
  /** Scored tokens (the same for every model). */
  tokens: number;
  /** Summed natural-log probability of the scored tokens. */
  logProb: number;
}

export interface PerplexityComparison {
  models: ModelPerplexity[];
  /** Scored tokens (sentences 2..N of every document, each + EOS). */
  tokens: number;
  /** Documents scored (those with fewer than 2 sentences contribute no tokens). */
  documents: number;
  /** sha256 (hex, first 16 chars) of the scored token ids, sentence by sentence: equal fingerprints = equal token sets. */
  fingerprint: string;
}

/** Tokens a scorer must score per document: sentences 1..N-1, each + EOS. */
export function expectedSentenceTokens(doc: Document): number[] {
  return doc.slice(1).map((s) => s.length + 1);
}

/**
 * The fingerprint of the scored token set: sha256 over, for every document, every scored
 * sentence's ids followed by an end marker, and a document marker.
 */
export function scoredTokensFingerprint(documents: readonly Document[]): string {
  const h = createHash('sha256');
  for (const doc of documents) {
    for (const s of doc.slice(1)) h.update(Int32Array.from([...Array.from(s), -1]));
    h.update(Int32Array.of(-2));
  }
  return h.digest('hex').slice(0, 16);
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Scores every model on the same documents and checks that each scored exactly the tokens of
 * sentences 2..N (+ EOS) of every document: the per-sentence token counts must match that
 * contract for every model, or this throws naming the model, document and counts.
 * `log` receives one line per model with its PPL and scored token count.
 */
export async function perplexityOverDocuments(
  models: readonly NamedScorer[],
  documents: readonly Document[],
  { log }: { log?: (line: string) => void } = {},
): Promise<PerplexityComparison> {
  if (models.length === 0) throw new Error('perplexityOverDocuments: no models given');
  const names = new Set<string>();
  for (const m of models) {
    if (names.has(m.name)) throw new Error(`perplexityOverDocuments: two models are named "${m.name}"`);
    names.add(m.name);
  }
  const expected = documents.map(expectedSentenceTokens);
  const tokens = expected.reduce((n, e) => n + e.reduce((a, b) => a + b, 0), 0);
  if (tokens === 0) throw new Error(`perplexityOverDocuments: the ${documents.length} documents have no sentence after their first, so there is nothing to score`);
  const fingerprint = scoredTokensFingerprint(documents);
  const out: ModelPerplexity[] = [];
  for (const { name, scorer } of models) {
    let logProb = 0;
    for (let d = 0; d < documents.length; d++) {
      const score = await scorer.scoreDocument(documents[d]!);
      if (!sameNumbers(score.sentenceTokens, expected[d]!)) {
        throw new Error(
          `perplexityOverDocuments: model "${name}" scored different tokens on document ${d}: ` +
            `per-sentence counts [${score.sentenceTokens.join(', ')}], expected [${expected[d]!.join(', ')}] (sentences 2..N, each + EOS)`,
        );
      }
      if (score.sentenceLogProbs.length !== score.sentenceTokens.length) {
        throw new Error(`perplexityOverDocuments: model "${name}" returned ${score.sentenceLogProbs.length} log-probs for ${score.sentenceTokens.length} sentences on document ${d}`);
      }
      for (const lp of score.sentenceLogProbs) {
        if (!(Number.isFinite(lp) && lp <= 0)) throw new Error(`perplexityOverDocuments: model "${name}" returned the log-probability ${lp} on document ${d} (must be finite and <= 0)`);
        logProb += lp;
      }
    }
    const r = { name, ppl: Math.exp(-logProb / tokens), tokens, logProb };
    out.push(r);
    log?.(formatPerplexity(r, fingerprint));
  }
  return { models: out, tokens, documents: documents.length, fingerprint };
}

/** `token-lm: PPL 12.345 over 678 tokens (scored-token fingerprint 0123abcd...)`. */
export function formatPerplexity(r: ModelPerplexity, fingerprint: string): string {
  return `${r.name}: PPL ${r.ppl.toFixed(3)} over ${r.tokens} tokens (scored-token fingerprint ${fingerprint})`;
}
