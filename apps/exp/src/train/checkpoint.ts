/**
 * A training checkpoint is one file `checkpoints/step-NNNNNNNN.safetensors` in the run folder,
 * in tensor's checkpoint format (the one format of the repo): the model's parameters, AdamW
 * moments and step, the models' published RNG states by name, the step, and the batch stream's
 * position in `extra.data` and the training FLOPs so far in `extra.flops`; sha256-checked on load and written atomically.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { RUN_FILES, type RunWriter } from '@sentencelab/runs';
import { CheckpointError, fromStoredTensor, loadCheckpoint, saveCheckpoint, type AdamW, type AdamWState, type Rng, type RngState } from '@sentencelab/tensor';

/** The extension of training checkpoint files (`step-00000100.safetensors`). */
export const CHECKPOINT_EXT = '.safetensors';

export interface TrainCheckpoint {
  step: number;
  params: Map<string, tf.Tensor>;
  optimizer: AdamWState;
  /** Batch stream position (`BatchStream.position()`). */
  data: unknown;
  rngs: Record<string, RngState>;
  /** Training FLOPs up to this step (`extra.flops`); undefined in checkpoints from before they were counted. */
  flops: number | undefined;
}

/** Writes the checkpoint file atomically; the tensors are read asynchronously. */
export async function writeTrainCheckpoint(
  file: string,
  c: { params: Map<string, tf.Variable>; optimizer: AdamW; step: number; data: unknown; rngs: Readonly<Record<string, Rng>>; flops: number | undefined },
): Promise<void> {
  const extra = c.flops === undefined ? { data: c.data } : { data: c.data, flops: c.flops };
  await saveCheckpoint(file, { model: { namedParameters: () => [...c.params] }, optimizer: c.optimizer, step: c.step, rngs: { ...c.rngs }, extra });
}

/** Reads and verifies a training checkpoint; the caller owns (and disposes) the returned tensors. */
export function readTrainCheckpoint(file: string): TrainCheckpoint {
  const ck = loadCheckpoint(file);
  if (ck.optimizer === undefined) throw new CheckpointError(file, 'has no optimizer state: not a training checkpoint');
  if (!('data' in ck.extra)) throw new CheckpointError(file, 'has no batch stream position (extra.data): not a training checkpoint');
  const convert = (m: ReadonlyMap<string, Parameters<typeof fromStoredTensor>[0]>) => new Map([...m].map(([n, t]) => [n, fromStoredTensor(t)]));
  return {
    step: ck.step,
    params: convert(ck.params),
    optimizer: { step: ck.optimizer.step, m: convert(ck.optimizer.m), v: convert(ck.optimizer.v) },
    data: ck.extra['data'],
    rngs: ck.rngs,
    flops: typeof ck.extra['flops'] === 'number' ? ck.extra['flops'] : undefined,
  };
}

/**
 * The checkpoint a resume continues from: the one `latest` points to, or, when that pointer is
 * missing or broken or its checkpoint unreadable, the newest intact one, saying why through
 * `warn`. Undefined when the run has no checkpoint at all (`warn` says so when some were
 * unreadable): training then starts at step 0. The caller owns the returned tensors.
 */
export function readResumeCheckpoint(run: RunWriter, warn: (line: string) => void): { name: string; checkpoint: TrainCheckpoint } | undefined {
  const dir = join(run.dir, RUN_FILES.checkpoints);
  let pointed: string | undefined;
  try {
    pointed = run.latestCheckpoint()?.name;
    if (pointed === undefined && run.listCheckpoints().length > 0) warn(`${join(dir, RUN_FILES.latest)} is missing; resuming from the newest intact checkpoint`);
  } catch (e) {
    warn(`${(e as Error).message}; resuming from the newest intact checkpoint`);
  }
  const names = run
    .listCheckpoints()
    .reverse()
    .flatMap((c) => c.entries.filter((e) => e.endsWith(CHECKPOINT_EXT)))
    .filter((n) => n !== pointed && existsSync(join(dir, n)));
  const unreadable: string[] = [];
  for (const name of pointed !== undefined ? [pointed, ...names] : names) {
    try {
      const checkpoint = readTrainCheckpoint(join(dir, name));
      if (unreadable.length > 0) warn(`resuming from ${name} instead`);
      return { name, checkpoint };
    } catch (e) {
      unreadable.push(name);
      warn(e instanceof CheckpointError ? e.message : `checkpoint ${join(dir, name)}: ${(e as Error).message}`);
    }
  }
  if (unreadable.length > 0) warn(`no intact checkpoint in ${dir}: training restarts from step 0`);
  return undefined;
}
