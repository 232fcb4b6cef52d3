/**
 * Training checkpoints: model weights + AdamW state + step + RNG states + config in one
 * safetensors file, written with `@sentencelab/fs-atomic` (every byte checked, fsync, rename) with a sha256
 * of the data section in the metadata, verified on load.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '@sentencelab/fs-atomic';
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../module.js';
import { Rng, type RngState } from '../rng.js';
import type { AdamW } from '../train/adamw.js';
import { decodeChecked, encodeChecked, fromStoredTensor, toStoredTensors } from './checked.js';
import { CheckpointError, type DecodedSafetensors, type StoredTensor } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'sentencelab-checkpoint/1';

export interface SaveCheckpointOptions {
  /** A Module, or anything that names its parameters the same way (a training wrapper). */
  model: { namedParameters(): ReadonlyArray<readonly [string, tf.Tensor]> };
  optimizer?: AdamW;
  /** Training step (e.g. optimizer steps taken). */
  step: number;
  /** Named generators whose state should resume (e.g. {init, dropout, data}). */
  rngs?: Record<string, Rng>;
  /** The resolved config (any JSON value). */
  config?: unknown;
  /** Anything else JSON-serialisable (best loss, data position...). */
  extra?: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  file: string;
  step: number;
  config: unknown;
  extra: Record<string, unknown>;
  rngs: Record<string, RngState>;
  /** Model parameters by name. */
  params: Map<string, StoredTensor>;
  /** AdamW state, when one was saved. */
  optimizer: { step: number; m: Map<string, StoredTensor>; v: Map<string, StoredTensor> } | undefined;
}


/**
 * Writes `file` atomically: a crash leaves either the old file or the new one, never a torn one.
 * The tensors are read asynchronously, so every backend (webgpu included) can save.
 */
export async function saveCheckpoint(file: string, o: SaveCheckpointOptions): Promise<void> {
  const named: Array<[string, tf.Tensor]> = o.model.namedParameters().map(([name, v]): [string, tf.Tensor] => [`model.${name}`, v]);
  if (o.optimizer !== undefined) {
    const s = o.optimizer.getState();
    for (const [name, t] of s.m) named.push([`optim.m.${name}`, t]);
    for (const [name, t] of s.v) named.push([`optim.v.${name}`, t]);
  }
  const tensors = await toStoredTensors(named);
  const rngs: Record<string, RngState> = {};
  for (const [name, r] of Object.entries(o.rngs ?? {})) rngs[name] = r.getState();
  const meta: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    step: JSON.stringify(o.step),
    config: JSON.stringify(o.config ?? null),
    extra: JSON.stringify(o.extra ?? {}),
    rngs: JSON.stringify(rngs),
  };
  if (o.optimizer !== undefined) {
    meta.optimizer = JSON.stringify({ kind: 'adamw', step: o.optimizer.step, lr: o.optimizer.lr });
  }
  // The checksum covers the data section; a damaged header fails JSON or offset validation.
  const bytes = encodeChecked(tensors, meta);
  writeFileAtomic(file, bytes);
}

function parseJson(file: string, key: string, text: string | undefined): unknown {
  if (text === undefined) throw new CheckpointError(file, `metadata "${key}" is missing`);
  try {
    return JSON.parse(text);
  } catch {
    throw new CheckpointError(file, `metadata "${key}" is not valid JSON`);
  }
}

/** Reads and verifies a checkpoint; problems throw {@link CheckpointError} naming the file. */
export function loadCheckpoint(file: string): LoadedCheckpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CheckpointError(file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeCheckpoint(decodeChecked(bytes, file), file);
}

/**
 * A checkpoint from its decoded safetensors (checksum already verified: {@link decodeChecked}
 * in Node, a Web Crypto digest in a browser); problems throw {@link CheckpointError} naming `file`.
 */
export function decodeCheckpoint(decoded: DecodedSafetensors, file: string): LoadedCheckpoint {
  const { metadata, tensors } = decoded;
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(file, `not a sentencelab checkpoint (metadata format ${JSON.stringify(metadata.format)}, expected "${CHECKPOINT_FORMAT}")`);
  }
  const step = parseJson(file, 'step', metadata.step);
  if (!Number.isInteger(step)) throw new CheckpointError(file, `metadata "step" is not an integer`);
  const params = new Map<string, StoredTensor>();
  const m = new Map<string, StoredTensor>();
  const v = new Map<string, StoredTensor>();
  for (const [name, t] of tensors) {
    if (name.startsWith('model.')) params.set(name.slice(6), t);
    else if (name.startsWith('optim.m.')) m.set(name.slice(8), t);
    else if (name.startsWith('optim.v.')) v.set(name.slice(8), t);
    else throw new CheckpointError(file, `unexpected tensor "${name}"`);
  }
  let optimizer: LoadedCheckpoint['optimizer'];
  if (metadata.optimizer !== undefined) {
    const o = parseJson(file, 'optimizer', metadata.optimizer) as { step?: unknown };
    if (!Number.isInteger(o.step)) throw new CheckpointError(file, 'metadata "optimizer.step" is not an integer');
    optimizer = { step: o.step as number, m, v };
  }
  return {
    file,
    step: step as number,
    config: parseJson(file, 'config', metadata.config),
    extra: parseJson(file, 'extra', metadata.extra) as Record<string, unknown>,
    rngs: parseJson(file, 'rngs', metadata.rngs) as Record<string, RngState>,
    params,
    optimizer,
  };
}

export interface RestoreTargets {
  model: Module;
  optimizer?: AdamW;
  rngs?: Record<string, Rng>;
}

/**
 * Loads `file` into a model (and optimizer and RNGs) built with the same config. Returns the
 * checkpoint's step, config and extra. Mismatched names or shapes throw {@link CheckpointError}.
 */
export function restoreCheckpoint(file: string, targets: RestoreTargets): LoadedCheckpoint {
  const ck = loadCheckpoint(file);
  const wrap = (f: () => void) => {
    try {
      f();
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      throw new CheckpointError(file, (e as Error).message);
    }
  };
  tf.tidy(() => {
    wrap(() => targets.model.loadParameters(new Map([...ck.params].map(([n, t]) => [n, fromStoredTensor(t)]))));
    if (targets.optimizer !== undefined) {
      if (ck.optimizer === undefined) throw new CheckpointError(file, 'has no optimizer state, but an optimizer was given to restore');
      const o = ck.optimizer;
      // moments saved before a layer was packed are packed like its weights
      const moments = (saved: Map<string, StoredTensor>) => targets.model.packLegacyParameters(new Map([...saved].map(([n, t]) => [n, fromStoredTensor(t)])));
      wrap(() => targets.optimizer!.setState({ step: o.step, m: moments(o.m), v: moments(o.v) }));
    }
  });
  for (const [name, r] of Object.entries(targets.rngs ?? {})) {
    const state = ck.rngs[name];
    if (state === undefined) throw new CheckpointError(file, `has no RNG state "${name}" (saved: ${Object.keys(ck.rngs).join(', ') || 'none'})`);
    wrap(() => r.setState(state));
  }
  return ck;
}
