// The public API, listed name by name: a name here is exported by no other sentencelab package
// (a document's score has its home in @sentencelab/metrics, whose Scorer these models are).
export {
  latentDecoderConfigSchema,
  sllmConfigSchema,
  tokenLmConfigSchema,
  type LatentDecoderConfig,
  type SllmConfig,
  type SllmConfigInput,
  type TokenLmConfig,
  type TokenLmConfigInput,
} from './config.js';
export { checkContextStart, corpusPerplexity, documentStream, sentenceSpanTokens, type DocumentSentences } from './document.js';
export { LatentDecoder, type LatentDecoderOptions } from './latent-decoder.js';
export { gatherSentences, nextSentencePairs, SLLM, stopTargets, type SllmBatch, type SllmGenerateOptions, type SllmLoss } from './sllm.js';
export { TokenLM, type TokenGenerateOptions, type TokenLmBatch, type TokenLmLoss } from './token-lm.js';
export { sentenceLens, tokenF1, type LensCell, type LensGrid, type LensOptions } from './lens.js';
