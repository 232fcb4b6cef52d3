/**
 * Concept heads in the workspace's checkpoint format (tensor's safetensors checkpoints): the
 * parameters as tensors, the resolved config as `config`, and the frozen concept space (the
 * normaliser's statistics and the end-of-text embedding) under `extra.conceptSpace`, so a
 * loaded head normalises, denormalises and stops exactly as the trained one did.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, loadCheckpoint, saveCheckpoint, type LoadedCheckpoint, type SaveCheckpointOptions, parseConfig } from '@sentencelab/tensor';
import { BaseLcm } from './base-lcm.js';
import { conceptHeadConfigSchema, type ConceptHeadConfig } from './config.js';
import { EnergyLcm } from './energy-lcm.js';
import type { ConceptModel, ConceptSpace } from './model.js';
import { EmbeddingNormalizer, type NormalizerJson } from './normalizer.js';
import { OneTowerLcm } from './one-tower.js';
import { TwoTowerLcm } from './two-tower.js';

/** The concept space as JSON (checkpoint `extra.conceptSpace`). */
export interface ConceptSpaceJson {
  normalizer: NormalizerJson;
  endVector: number[];
}

export function conceptSpaceToJson(space: ConceptSpace): ConceptSpaceJson {
  return { normalizer: space.normalizer.toJSON(), endVector: Array.from(space.endVector) };
}

export function conceptSpaceFromJson(json: unknown): ConceptSpace {
  const j = json as Partial<ConceptSpaceJson> | null;
  if (j === null || typeof j !== 'object' || j.normalizer === undefined || !Array.isArray(j.endVector)) {
    throw new Error('conceptSpace must be {normalizer: {kind, center, scale}, endVector: number[]}');
  }
  return { normalizer: EmbeddingNormalizer.fromJSON(j.normalizer), endVector: Float32Array.from(j.endVector) };
}

/** Builds the head `config.kind` names (config parsed with its schema: defaults filled in). */
export function createConceptHead(config: unknown, space: ConceptSpace): ConceptModel {
  const c: ConceptHeadConfig = parseConfig(conceptHeadConfigSchema, config, 'concept-head');
  switch (c.kind) {
    case 'base-lcm':
      return new BaseLcm(c, space);
    case 'two-tower':
      return new TwoTowerLcm(c, space);
    case 'one-tower':
      return new OneTowerLcm(c, space);
    case 'energy':
      return new EnergyLcm(c, space);
  }
}

export type SaveConceptHeadOptions = Omit<SaveCheckpointOptions, 'model' | 'config'>;

/**
 * Writes `file` atomically. The model's training RNG is saved as `rngs.model`; pass the
 * optimizer (and other RNGs) to make the checkpoint resumable.
 */
export async function saveConceptHead(file: string, model: ConceptModel, options: SaveConceptHeadOptions): Promise<void> {
  await saveCheckpoint(file, {
    ...options,
    model,
    config: model.config,
    rngs: { model: model.rng, ...options.rngs },
    extra: { ...options.extra, conceptSpace: conceptSpaceToJson(model) },
  });
}

/**
 * Reads a head back: model built from the saved config and concept space, parameters and
 * training RNG restored. To resume training, restore the optimizer from the same file with
 * tensor's `restoreCheckpoint(file, { model, optimizer })`.
 */
export function loadConceptHead(file: string): { model: ConceptModel; checkpoint: LoadedCheckpoint } {
  const checkpoint = loadCheckpoint(file);
  return { model: conceptHeadFromCheckpoint(checkpoint, file), checkpoint };
}

/** The head a loaded checkpoint holds (bytes read in Node or fetched by a browser); `file` names it in errors. */
export function conceptHeadFromCheckpoint(checkpoint: LoadedCheckpoint, file: string): ConceptModel {
  let model: ConceptModel;
  try {
    model = createConceptHead(checkpoint.config, conceptSpaceFromJson(checkpoint.extra.conceptSpace));
  } catch (e) {
    throw new CheckpointError(file, `not a concept head: ${(e as Error).message}`);
  }
  try {
    tf.tidy(() => model.loadParameters(new Map([...checkpoint.params].map(([n, t]) => [n, tf.tensor(t.data, t.shape)]))));
  } catch (e) {
    model.dispose();
    throw new CheckpointError(file, (e as Error).message);
  }
  const rng = checkpoint.rngs.model;
  if (rng !== undefined) model.rng.setState(rng);
  return model;
}
