// The public API, listed name by name: a name here is exported by no other sentencelab package.
export {
  bucketLabel,
  CONTEXT_BUCKETS,
  fingerprintIds,
  matchedContextStarts,
  type ContextBucket,
  type PerplexityOptions,
  type ScoreOptions,
  expectedSentenceTokens,
  formatPerplexity,
  perplexityOverDocuments,
  bitsPerByte,
  scoredBytes,
  scoredTokensFingerprint,
  type Document,
  type DocumentScore,
  type ModelPerplexity,
  type NamedScorer,
  type PerplexityComparison,
  type Scorer,
} from './perplexity.js';
export { generationSummary, measureGeneration, type GenerationOptions, type GenerationResult, type GenerationSpeed, type SentenceGenerator } from './generation.js';
export {
  analyticalKvBytesPerToken,
  leastSquares,
  meanTokensPerSentence,
  measureGenerationKvBytes,
  measureKvBytesPerPosition,
  peakTensorBytes,
  rssBytes,
  tokensPerCachePosition,
  type Disposable,
  type KvSlope,
  type GenerationKvFit,
  type LineFit,
  type PeakBytes,
  type SentenceKvModel,
  type TokenKvModel,
} from './memory.js';
export { trainingThroughput, type StepTiming, type Throughput } from './throughput.js';
export { countParams, type ParamCounts, type ParameterOwner } from './params.js';
export { bootstrap, bootstrapEach, bootstrapRatio, formatInterval, intervalsOverlap, pairedBootstrapRatio, type BootstrapOptions, type DocumentSums, type Interval } from './bootstrap.js';
export { seedSpread, tQuantile975, type SeedSpread } from './seeds.js';
export { ranks, spearman, spearmanCritical } from './rank-correlation.js';
export { BRIER_TOKENS, brierEstimate, brierFigures, brierLm, brierSample, pairedBrierDifferences, sameBrierItems, spreadPicks, spreadQuota, type BrierItem, type BrierLmResult } from './brier.js';
