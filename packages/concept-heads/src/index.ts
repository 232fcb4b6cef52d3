export { type ConceptCodec, encodeWithCodec } from './codec.js';
export { BagOfWordsCodec, type BagOfWordsCodecOptions } from './bag-of-words-codec.js';
export { EmbeddingNormalizer, type NormalizerKind, type NormalizerJson } from './normalizer.js';
export {
  makeSchedule,
  cosineAlphaBar,
  sigmoidAlphaBar,
  rescaleZeroTerminalSnr,
  defaultScheduleOptions,
  type NoiseSchedule,
  type NoiseScheduleKind,
  type NoiseScheduleOptions,
} from './schedule.js';
export { addNoise, noiseLevel, outputToX0Eps, predictionTarget, type NoiseLevel, type PredictionKind } from './prediction.js';
export { ddimSample, ddimTimesteps, ddimCoefficients, type DdimCoefficients, type DdimOptions, type Denoiser, type TimestepSpacing } from './ddim.js';
export { classifierFreeGuidance } from './guidance.js';
export { conceptWindows, collateWindows, conceptBatches, disposeBatch, type ConceptBatch, type WindowOptions, type BatchOptions } from './batches.js';
export { l2, cosine, nextEmbeddingL2, contrastiveAccuracy, contrastiveScores, scoresWithBaselines, energyScores, drawSpreads, roundTripL2, repetitionRate, cosineToPrevious, type L2Result, type PredictionScores } from './evaluation.js';
export {
  baseLcmConfigSchema,
  twoTowerConfigSchema,
  oneTowerConfigSchema,
  energyLcmConfigSchema,
  energyGeneratorSchema,
  conceptHeadConfigSchema,
  scheduleSchema,
  guidanceSchema,
  samplingSchema,
  type BaseLcmConfig,
  type TwoTowerConfig,
  type OneTowerConfig,
  type EnergyLcmConfig,
  type ConceptHeadConfig,
  type DiffusionConfig,
  type BaseLcmConfigInput,
  type TwoTowerConfigInput,
  type OneTowerConfigInput,
  type EnergyLcmConfigInput,
} from './config.js';
export { encodeDocuments, fitConceptSpace } from './concepts.js';
export {
  ConceptModel,
  type ConceptSpace,
  type LossResult,
  type ConceptSampleOptions,
  type GenerateOptions,
  type GeneratedSentence,
  type BatchPredictions,
} from './model.js';
export { headGenerateOptions, diffusionChoiceGiven, DIFFUSION_CHOICES, type DiffusionChoice, type HeadChoices } from './head-choices.js';
export { describeSampler } from './sampler-description.js';
export { BaseLcm } from './base-lcm.js';
export { conceptLens, hasLens, type ConceptLensCell, type ConceptLensGrid, type LensHead } from './lens.js';
export { DiffusionLcm } from './diffusion.js';
export { TwoTowerLcm } from './two-tower.js';
export { OneTowerLcm } from './one-tower.js';
export { EnergyLcm } from './energy-lcm.js';
export { EnergyGenerator, type EnergyGeneratorOptions } from './energy-generator.js';
export { energyScoreLoss } from './energy-score.js';
export {
  createConceptHead,
  saveConceptHead,
  loadConceptHead,
  conceptHeadFromCheckpoint,
  conceptSpaceToJson,
  conceptSpaceFromJson,
  type ConceptSpaceJson,
  type SaveConceptHeadOptions,
} from './checkpoint.js';
export { ConceptDecoder, mlpWidth, type DecoderOptions, type DecoderCallOptions } from './decoder.js';
export { maskedSquaredError } from './losses.js';
export { twoTowerCrossMask, oneTowerMask, selfOnlyMask, interleave, oddPositions } from './masks.js';
