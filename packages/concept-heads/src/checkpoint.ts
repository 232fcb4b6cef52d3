/** Rebuilds a head from its {@link ConceptModel.state}: parameters, normaliser, end vector, config. */
import type * as tf from '@tensorflow/tfjs-core';
import { BaseLcm } from './base-lcm.js';
import { conceptHeadConfigSchema, parseConfig } from './config.js';
import { CHECKPOINT_FORMAT, type ConceptModel } from './model.js';
import { EmbeddingNormalizer, type NormalizerKind } from './normalizer.js';
import { OneTowerLcm } from './one-tower.js';
import { TwoTowerLcm } from './two-tower.js';

function need(tensors: Map<string, tf.Tensor>, name: string): Float32Array {
  const t = tensors.get(name);
  if (t === undefined) throw new Error(`concept-head checkpoint: missing tensor "${name}"`);
  return Float32Array.from(t.dataSync());
}

export function loadConceptHead(tensors: Map<string, tf.Tensor>, metadata: Record<string, string>): ConceptModel {
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`concept-head checkpoint: metadata.format is ${JSON.stringify(metadata.format)}, expected "${CHECKPOINT_FORMAT}"`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(metadata.config ?? '');
  } catch (e) {
    throw new Error(`concept-head checkpoint: metadata.config is not JSON (${(e as Error).message})`);
  }
  const config = parseConfig(conceptHeadConfigSchema, raw, 'concept-head checkpoint');
  const normalizer = EmbeddingNormalizer.fromJSON({
    kind: metadata.normalizer as NormalizerKind,
    center: Array.from(need(tensors, 'normalizer.center')),
    scale: Array.from(need(tensors, 'normalizer.scale')),
  });
  const space = { normalizer, endVector: need(tensors, 'endVector') };
  const model = config.kind === 'base-lcm' ? new BaseLcm(config, space) : config.kind === 'two-tower' ? new TwoTowerLcm(config, space) : new OneTowerLcm(config, space);
  const params = new Map<string, tf.Tensor>();
  for (const [name, t] of tensors) if (name.startsWith('model.')) params.set(name.slice('model.'.length), t);
  model.loadParameters(params);
  return model;
}
