import { resolve } from 'node:path';
import { dataConfigSchema } from '@sentencelab/data';
import { pipelineSchema, type AnyStage, type PipelineConfig } from '../stages/types.js';
import { loadConfig } from './load.js';
import { dropNullStages } from './stage-drop.js';
import { resolveStageLikes } from './stage-like.js';

/** The full pipeline schema: the data package's `data:` section and one section per stage kind. */
export function buildPipelineSchema(stages: readonly AnyStage[]) {
  return pipelineSchema(dataConfigSchema.default(dataConfigSchema.parse({})), stages);
}

/**
 * Loads, composes, overrides, drops the stages set to null ({@link dropNullStages}), resolves
 * `like:` stages ({@link resolveStageLikes}) and validates a pipeline config (schema only; see
 * `planPipeline` for inputs).
 */
export function loadPipeline(file: string, stages: readonly AnyStage[], overrides: string[] = []): { config: PipelineConfig; files: string[] } {
  const { config, files } = loadConfig(resolve(file), buildPipelineSchema(stages), overrides, (value, origins, at) => resolveStageLikes(dropNullStages(value, origins), origins, at));
  return { config: config as PipelineConfig, files };
}
