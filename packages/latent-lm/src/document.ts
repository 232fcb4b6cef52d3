/**
 * How a document's sentences become the token stream the token LM reads, and which of its
 * tokens are scored. Both models score exactly the same tokens: every sentence after the first,
 * each followed by its EOS (the SentenceVAE paper never scores the first sentence).
 */

/** A document as token ids per sentence (no BOS/EOS). */
export type DocumentSentences = readonly ArrayLike<number>[];

/** The scored log-likelihood of one document, sentence by sentence (sentences 1..N-1). */
export interface DocumentScore {
  /** Natural-log probability of each scored sentence: its tokens and its EOS. */
  sentenceLogProbs: number[];
  /** Tokens scored per sentence: its length + 1 (the EOS). */
  sentenceTokens: number[];
  /**
   * Context tokens the model saw before each scored sentence's first token: every earlier
   * sentence it read counts for its length + 1 (its EOS); a BOS is not counted.
   */
  contextTokens: number[];
  /** The target ids each scored sentence was scored on, read from the arrays fed to the model (its tokens, then EOS). */
  scoredIds: number[][];
}

/**
 * How much context each scored sentence gets. Without `contextStart` each model reads the
 * document in its own windows (unmatched context). With it, scored sentence i (1..N-1) is
 * scored after exactly sentences `contextStart[i - 1]..i-1` and nothing earlier, so two models
 * given the same starts see the same context tokens.
 */
export interface ScoreOptions {
  contextStart?: readonly number[];
}

/** Checks `contextStart` against a document of N sentences: one start per scored sentence, 0 <= start < i. */
export function checkContextStart(contextStart: readonly number[], N: number, what: string): void {
  if (contextStart.length !== Math.max(N - 1, 0)) throw new Error(`${what}: contextStart has ${contextStart.length} entries for ${N - 1} scored sentences`);
  contextStart.forEach((start, k) => {
    if (!(Number.isInteger(start) && start >= 0 && start <= k)) throw new Error(`${what}: contextStart[${k}] = ${start} must be an integer in 0..${k} (sentence ${k + 1} needs at least one sentence of context)`);
  });
}

/** Tokens of sentences from..to-1, each + its EOS. */
export function sentenceSpanTokens(sentences: DocumentSentences, from: number, to: number): number {
  let n = 0;
  for (let j = from; j < to; j++) n += sentences[j]!.length + 1;
  return n;
}

/**
 * `[BOS, s0..., EOS, s1..., EOS, ...]` and, for every stream position, the sentence whose token
 * it is (-1 for the BOS). The EOS after sentence i belongs to sentence i.
 */
export function documentStream(sentences: DocumentSentences, bos: number, eos: number): { stream: Int32Array; sentenceOf: Int32Array } {
  let n = 1;
  for (const s of sentences) n += s.length + 1;
  const stream = new Int32Array(n);
  const sentenceOf = new Int32Array(n);
  stream[0] = bos;
  sentenceOf[0] = -1;
  let p = 1;
  sentences.forEach((s, i) => {
    for (let j = 0; j < s.length; j++) {
      stream[p] = s[j]!;
      sentenceOf[p++] = i;
    }
    stream[p] = eos;
    sentenceOf[p++] = i;
  });
  return { stream, sentenceOf };
}

/** Sums of a score over every document: total log-probability and token count, and the PPL. */
export function corpusPerplexity(scores: readonly Pick<DocumentScore, 'sentenceLogProbs' | 'sentenceTokens'>[]): { logProb: number; tokens: number; ppl: number } {
  let logProb = 0;
  let tokens = 0;
  for (const s of scores) {
    for (const lp of s.sentenceLogProbs) logProb += lp;
    for (const t of s.sentenceTokens) tokens += t;
  }
  return { logProb, tokens, ppl: tokens === 0 ? Number.NaN : Math.exp(-logProb / tokens) };
}
