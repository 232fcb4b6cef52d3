export {
  cpuSecondsOf,
  ownCpuSecondsOf,
  RUN_FILES,
  evalValueSchema,
  formatVersion,
  formatZodIssues,
  gitInfoSchema,
  machineInfoSchema,
  metricDirectionSchema,
  metricSummarySchema,
  runErrorSchema,
  runMetaSchema,
  runResourcesSchema,
  runStatusSchema,
  sampleSchema,
  summarySchema,
  type EvalValue,
  type GitInfo,
  type MachineInfo,
  type MetricDirection,
  type MetricSummary,
  type RunError,
  type RunMeta,
  type RunResources,
  type RunStatus,
  type Sample,
  type Summary,
} from './format.js';
export { ALL_PAIRED_COMPARISONS, ES_BY_HORIZON_KEY, EVAL_KEYS, EVAL_METRICS, headTablePart, type HeadTablePart, HIGHER_IS_BETTER, intervalBase, intervalEntries, intervalKeys, MATCHED_PPL_COMPARISON, PAIRED_COMPARISONS, aboveOneKey, noChange, pairedBaselineKey, pairedBoundsKeys, pairedSide, type PairedComparison, PPL_BY_CONTEXT_KEY, rangeKeys, spreadBase, storedBounds, storedSpread, type EvalKey, type StoredSpread } from './eval-keys.js';
export { RunFormatError } from './errors.js';
export { mergeEvalResults } from './eval-results.js';
export { collectGitInfo, collectMachineInfo, collectPackageVersions } from './machine.js';
export { assertPathSegment, defaultRunId } from './names.js';
export { metricsSchema, type MetricColumns, type MetricRow } from './metrics-file.js';
export { buildSummary, metricDirection, metricHasBetterSide, summarizeMetrics } from './summary.js';
export {
  checkpointName,
  checkpointStep,
  latestCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  type CheckpointEntry,
  type CheckpointRef,
} from './checkpoints.js';
export { createRun, forkRun, openRunForResume, RunAlreadyDoneError, RunWriter, type CreateRunOptions, type WriterOptions } from './writer.js';
export {
  acquireRunLock,
  DEFAULT_LEASE_MS,
  describeHolder,
  LOCK_FILE,
  processAlive,
  readRunLock,
  RunLockedError,
  RunLockLostError,
  runDisplayStatus,
  runLockState,
  type AcquireRunLockOptions,
  type LockHolder,
  type LockState,
  type RunDisplayStatus,
  type RunLock,
} from './lock.js';
export {
  listRunFolders,
  listRuns,
  readConfig,
  readMeta,
  readMetrics,
  readOverrides,
  readRun,
  readRunInfo,
  readSamples,
  readSummary,
  type ListRunsOptions,
  type MetricSeries,
  type MetricsData,
  type RunData,
  type RunFolder,
  type RunInfo,
  type RunInfoError,
  type RunInfoOk,
} from './reader.js';
export { validateRun } from './validate.js';
export {
  embeddingsSchema,
  MAX_EMBEDDING_SENTENCES,
  readEmbeddings,
  writeEmbeddings,
  type Embeddings,
  type EmbeddingsInput,
} from './embeddings.js';
