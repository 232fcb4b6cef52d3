/**
 * Perplexity over identical tokens: every model scores the same held-out documents, and the
 * ids each model reports scoring are checked against sentences 2..N (+ EOS) of every document
 * before any PPL is reported. The context behind every scored sentence is reported too, and
 * can be matched: every model reads exactly the same earlier sentences.
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
  /** Context tokens the model saw before each scored sentence's first token (earlier sentences + their EOS; no BOS). */
  contextTokens: readonly number[];
  /** The target ids each sentence was actually scored on (its tokens, then EOS). */
  scoredIds: readonly (readonly number[])[];
}

/** Scoring options a scorer accepts: `contextStart[i - 1]` = the first sentence of scored sentence i's context. */
export interface ScoreOptions {
  contextStart?: readonly number[];
}

/** Anything that scores a document the way `@sentencelab/latent-lm`'s TokenLM and SLLM do. */
export interface Scorer {
  scoreDocument(sentences: Document, options?: ScoreOptions): DocumentScore | Promise<DocumentScore>;
}

export interface NamedScorer {
  name: string;
  scorer: Scorer;
}

/** Context-length buckets of the PPL-by-context table: [from, to) context tokens; the last is open. */
export const CONTEXT_BUCKETS: readonly (readonly [number, number])[] = [
  [0, 32],
  [32, 64],
  [64, 128],
  [128, 256],
  [256, Number.POSITIVE_INFINITY],
];

/** `0-32`, ..., `256+`. */
export function bucketLabel([from, to]: readonly [number, number]): string {
  return to === Number.POSITIVE_INFINITY ? `${from}+` : `${from}-${to}`;
}

export interface ContextBucket {
  /** `0-32`, `32-64`, ..., `256+`. */
  bucket: string;
  /** Scored sentences whose context falls in the bucket. */
  sentences: number;
  tokens: number;
  logProb: number;
  /** exp(-logProb / tokens); NaN when the bucket is empty. */
  ppl: number;
}

export interface ModelPerplexity {
  name: string;
  /** exp(-logProb / tokens). */
  ppl: number;
  /** Scored tokens (the same for every model). */
  tokens: number;
  /** Summed natural-log probability of the scored tokens. */
  logProb: number;
  /** Context tokens per scored sentence: mean, min, max. */
  context: { mean: number; min: number; max: number };
  /** PPL by the context tokens behind each scored sentence ({@link CONTEXT_BUCKETS}). */
  byContext: ContextBucket[];
  /** Per document: {num: summed log-probability, den: scored tokens} (for bootstrap intervals). */
  documents: { num: number; den: number }[];
  /** Fingerprint of the ids this model actually scored. */
  fingerprint: string;
}

export interface PerplexityComparison {
  models: ModelPerplexity[];
  /** Scored tokens (sentences 2..N of every document, each + EOS). */
  tokens: number;
  /** Documents scored (those with fewer than 2 sentences contribute no tokens). */
  documents: number;
  /** The fingerprint every model's scored ids matched (see {@link scoredTokensFingerprint}). */
  fingerprint: string;
  /** How the context was chosen: the same sentences for every model, or each model's own windows. */
  context: 'matched' | 'unmatched';
}

/** Tokens a scorer must score per document: sentences 1..N-1, each + EOS. */
export function expectedSentenceTokens(doc: Document): number[] {
  return doc.slice(1).map((s) => s.length + 1);
}

/**
 * UTF-8 bytes of the text each document's PPL scores: its sentences 2..N (the EOS after each adds
 * none). `texts[d][k]`: the text of sentence k of document d.
 */
export function scoredBytes(texts: readonly (readonly string[])[]): number[] {
  const utf8 = new TextEncoder();
  return texts.map((doc) => doc.slice(1).reduce((n, t) => n + utf8.encode(t).length, 0));
}

/**
 * Bits per UTF-8 byte of the scored text: -logProb / (bytes * ln 2), logProb in nats over the
 * scored tokens (EOS included). Unlike PPL per token it compares models that cut or tokenize the
 * same text differently: a unit that ends every K tokens adds K-predictable EOS tokens, which
 * lower its PPL per token but add no bytes.
 */
export function bitsPerByte(logProb: number, bytes: number): number {
  if (!(bytes > 0)) throw new Error(`bitsPerByte: bytes must be > 0, got ${bytes}`);
  return -logProb / (bytes * Math.LN2);
}

/**
 * sha256 (first 16 hex digits) over, per document, each scored sentence's ids followed by -1,
 * then -2 (int32 little-endian). `scoredIds[d][k]`: the ids scored for sentence k + 1 of
 * document d (its tokens and EOS, as a scorer reports them).
 */
export function fingerprintIds(scoredIds: readonly (readonly (readonly number[])[])[]): string {
  const h = createHash('sha256');
  for (const doc of scoredIds) {
    for (const s of doc) h.update(new Uint8Array(Int32Array.from([...s, -1]).buffer));
    h.update(new Uint8Array(Int32Array.of(-2).buffer));
  }
  return h.digest('hex').slice(0, 16);
}

/** The fingerprint a correct scorer's ids give: sentences 2..N of every document, each + `eos`. */
export function scoredTokensFingerprint(documents: readonly Document[], eos: number): string {
  return fingerprintIds(documents.map((doc) => doc.slice(1).map((s) => [...Array.from(s), eos])));
}

/**
 * Matched context: for each scored sentence i, the earliest start such that sentences
 * start..i-1 hold at most `maxTokens` tokens (each + EOS) and at most `maxSentences` sentences;
 * at least sentence i-1 always (a sentence model needs one). Both models scored with these
 * starts see the same context tokens.
 */
export function matchedContextStarts(doc: Document, { maxTokens, maxSentences = Number.POSITIVE_INFINITY }: { maxTokens: number; maxSentences?: number }): number[] {
  if (!(maxTokens >= 0)) throw new Error(`matchedContextStarts: maxTokens must be >= 0, got ${maxTokens}`);
  if (!(maxSentences >= 1)) throw new Error(`matchedContextStarts: maxSentences must be >= 1, got ${maxSentences}`);
  const starts: number[] = [];
  for (let i = 1; i < doc.length; i++) {
    let start = i - 1;
    let tokens = doc[start]!.length + 1;
    while (start > 0 && i - start < maxSentences && tokens + doc[start - 1]!.length + 1 <= maxTokens) {
      start--;
      tokens += doc[start]!.length + 1;
    }
    starts.push(start);
  }
  return starts;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export interface PerplexityOptions {
  log?: (line: string) => void;
  /** EOS id (the fingerprint of the expected ids ends every sentence with it). Default 2. */
  eos?: number;
  /** Per document, the matched context starts every model is scored with; absent = each model's own windows. */
  contextStarts?: readonly (readonly number[])[];
}

/**
 * Scores every model on the same documents and checks that each scored exactly the tokens of
 * sentences 2..N (+ EOS) of every document: the per-sentence token counts must match that
 * contract, and the ids it reports scoring must hash to the fingerprint of those tokens, or
 * this throws naming the model and document. `log` receives one line per model.
 */
export async function perplexityOverDocuments(models: readonly NamedScorer[], documents: readonly Document[], options: PerplexityOptions = {}): Promise<PerplexityComparison> {
  const { log, eos = 2, contextStarts } = options;
  if (models.length === 0) throw new Error('perplexityOverDocuments: no models given');
  if (contextStarts !== undefined && contextStarts.length !== documents.length) {
    throw new Error(`perplexityOverDocuments: ${contextStarts.length} context-start lists for ${documents.length} documents`);
  }
  const names = new Set<string>();
  for (const m of models) {
    if (names.has(m.name)) throw new Error(`perplexityOverDocuments: two models are named "${m.name}"`);
    names.add(m.name);
  }
  const expected = documents.map(expectedSentenceTokens);
  const tokens = expected.reduce((n, e) => n + e.reduce((a, b) => a + b, 0), 0);
  if (tokens === 0) throw new Error(`perplexityOverDocuments: the ${documents.length} documents have no sentence after their first, so there is nothing to score`);
  const fingerprint = scoredTokensFingerprint(documents, eos);
  const out: ModelPerplexity[] = [];
  for (const { name, scorer } of models) {
    let logProb = 0;
    const contexts: number[] = [];
    const ids: (readonly number[])[][] = [];
    const perDoc: { num: number; den: number }[] = [];
    const buckets = CONTEXT_BUCKETS.map((b) => ({ bucket: bucketLabel(b), sentences: 0, tokens: 0, logProb: 0, ppl: Number.NaN }));
    for (let d = 0; d < documents.length; d++) {
      const starts = contextStarts?.[d];
      const score = await scorer.scoreDocument(documents[d]!, starts === undefined ? {} : { contextStart: starts });
      if (!sameNumbers(score.sentenceTokens, expected[d]!)) {
        throw new Error(
          `perplexityOverDocuments: model "${name}" scored different tokens on document ${d}: ` +
            `per-sentence counts [${score.sentenceTokens.join(', ')}], expected [${expected[d]!.join(', ')}] (sentences 2..N, each + EOS)`,
        );
      }
      const n = score.sentenceTokens.length;
      if (score.sentenceLogProbs.length !== n || score.contextTokens.length !== n || score.scoredIds.length !== n) {
        throw new Error(`perplexityOverDocuments: model "${name}" returned ${score.sentenceLogProbs.length} log-probs, ${score.contextTokens.length} context counts and ${score.scoredIds.length} id lists for ${n} sentences on document ${d}`);
      }
      let docLogProb = 0;
      score.sentenceLogProbs.forEach((lp, k) => {
        if (!(Number.isFinite(lp) && lp <= 0)) throw new Error(`perplexityOverDocuments: model "${name}" returned the log-probability ${lp} on document ${d} (must be finite and <= 0)`);
        const c = score.contextTokens[k]!;
        const b = CONTEXT_BUCKETS.findIndex(([from, to]) => c >= from && c < to);
        buckets[b]!.sentences++;
        buckets[b]!.tokens += score.sentenceTokens[k]!;
        buckets[b]!.logProb += lp;
        docLogProb += lp;
      });
      if (starts !== undefined) {
        const want = starts.map((start, k) => documents[d]!.slice(start, k + 1).reduce((a, s) => a + s.length + 1, 0));
        if (!sameNumbers(score.contextTokens, want)) {
          throw new Error(`perplexityOverDocuments: model "${name}" reports context tokens [${score.contextTokens.join(', ')}] on document ${d}, the matched context gives [${want.join(', ')}]`);
        }
      }
      logProb += docLogProb;
      contexts.push(...score.contextTokens);
      ids.push([...score.scoredIds]);
      perDoc.push({ num: docLogProb, den: expected[d]!.reduce((a, b) => a + b, 0) });
    }
    const modelFingerprint = fingerprintIds(ids);
    if (modelFingerprint !== fingerprint) {
      const d = ids.findIndex((doc, i) => fingerprintIds([doc]) !== fingerprintIds([documents[i]!.slice(1).map((s) => [...Array.from(s), eos])]));
      throw new Error(`perplexityOverDocuments: model "${name}" scored other ids than sentences 2..N (+ EOS ${eos}) of document ${d}: fingerprint ${modelFingerprint}, expected ${fingerprint}`);
    }
    for (const b of buckets) b.ppl = b.tokens === 0 ? Number.NaN : Math.exp(-b.logProb / b.tokens);
    const r: ModelPerplexity = {
      name,
      ppl: Math.exp(-logProb / tokens),
      tokens,
      logProb,
      context: { mean: contexts.reduce((a, b) => a + b, 0) / contexts.length, min: Math.min(...contexts), max: Math.max(...contexts) },
      byContext: buckets,
      documents: perDoc,
      fingerprint: modelFingerprint,
    };
    out.push(r);
    log?.(formatPerplexity(r));
  }
  return { models: out, tokens, documents: documents.length, fingerprint, context: contextStarts === undefined ? 'unmatched' : 'matched' };
}

/** `token-lm: PPL 12.345 over 678 tokens, context 12.3 tokens (4-40) (scored-id fingerprint 0123abcd...)`. */
export function formatPerplexity(r: ModelPerplexity): string {
  return `${r.name}: PPL ${r.ppl.toFixed(3)} over ${r.tokens} tokens, context ${r.context.mean.toFixed(1)} tokens (${r.context.min}-${r.context.max}) (scored-id fingerprint ${r.fingerprint})`;
}
