// The public API, listed name by name: a name here is exported by no other sentencelab package
// (the special token ids and the data package's batches have their home in @sentencelab/data;
// any object of that shape fits the types below).

// The model, its config and its losses.
export { SentenceVAE, type SentenceVaeLoss, type SentenceVaeLossMetrics, type TokenizerLike } from './model.js';
export {
  decoderConfigSchema,
  encoderConfigSchema,
  klConfigSchema,
  lossConfigSchema,
  poolingKinds,
  sentenceVaeConfigSchema,
  specialIdsSchema,
  tokenLossSchema,
  type DecoderConfig,
  type EncoderConfig,
  type FreeBitsPer,
  type KlConfig,
  type LossConfig,
  type PoolingKind,
  type SentenceVaeConfig,
  type SentenceVaeConfigInput,
} from './config.js';
export { textCodec, vectorRows, type CodecTokenizer, type TextCodec } from './text-codec.js';
export { gaussianKl, klTerm, klWeight, reparameterise } from './kl.js';
export { targetLogProbs, tokenLoss } from './token-loss.js';

// Inputs: sentences as batches of token ids.
export {
  flattenSentences,
  packSentences,
  teacherForcing,
  unpackSentences,
  type FlatSentences,
  type SentenceBatchInput,
  type SentencesInput,
  type SentenceTokens,
  type TeacherForcing,
} from './batch.js';
export { checkSentences, createTokenEmbedding, embedTokens, sentenceTensors } from './token-input.js';
export { scatterToSlots } from './slots.js';
export { dropWords, maskTokens } from './word-dropout.js';

// The encoder and decoder, decoding and sampling.
export { SentenceEncoder, type Posterior, type SentenceEncoderOptions } from './encoder.js';
export { DecoderState, SentenceDecoder, type SentenceDecoderOptions, type TokenLoss } from './decoder.js';
export { Pooling, type PoolingOptions } from './pooling.js';
export { decodeOptionsFrom, decodeOptionsSchema, decodeSentences, type DecodeHooks, type DecodeOptions, type DecodeResult, type SamplingSettings } from './generate.js';
export { BeamSearch, type BeamSearchOptions, type BeamStep } from './beam.js';
export { argmax, logSoftmax, nucleusDistribution, sampleToken, type SampleOptions, type Uniform } from './sampling.js';

// Reconstruction quality.
export { reconstructionMetrics, type ReconstructionGroup, type ReconstructionMetrics, type ReconstructionOptions, type Reconstructor } from './reconstruction.js';
export { corpusBleu, exactMatchRate, perplexity, tokenAccuracy, type BleuResult, type ReconstructionPair, type Token } from './metrics.js';
export { noisyVectors } from './latent-noise.js';
export { halfKeptLevel, NOISE_LEVELS, vectorNoise, vectorUse, type VectorNoise, type VectorUse } from './vector-use.js';
