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
export function corpusPerplexity(scores: readonly DocumentScore[]): { logProb: number; tokens: number; ppl: number } {
  let logProb = 0;
  let tokens = 0;
  for (const s of scores) {
    for (const lp of s.sentenceLogProbs) logProb += lp;
    for (const t of s.sentenceTokens) tokens += t;
  }
  return { logProb, tokens, ppl: tokens === 0 ? Number.NaN : Math.exp(-logProb / tokens) };
}
