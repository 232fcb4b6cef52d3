/**
 * A training checkpoint is a folder `checkpoints/step-NNNNNNNN/` in the run folder:
 *   params.safetensors     the model's parameters by name
 *   optimizer.safetensors  AdamW moments (`m.<name>`, `v.<name>`); its step in trainer.json
 *   trainer.json           step, optimizer step, batch-stream position, RNG state
 * written into a dot-named temp folder and renamed into place, so a checkpoint either exists
 * whole or not at all.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '@sentencelab/fs-atomic';
import { checkpointName, RUN_FILES, type RunWriter } from '@sentencelab/runs';
import { decodeTensors, encodeTensors, type AdamWState } from '@sentencelab/tensor';

export interface TrainerState {
  step: number;
  /** Batch stream position (`BatchStream.position()`), JSON. */
  data: unknown;
  /** RNG state, JSON; null when the loop has no RNG. */
  rng: unknown;
}

interface TrainerFile extends TrainerState {
  optimizerStep: number;
}

export interface TrainCheckpoint {
  params: Map<string, tf.Tensor>;
  optimizer: AdamWState;
  trainer: TrainerState;
}

/**
 * Writes the checkpoint folder `path` atomically (temp folder + rename). The tensors are read
 * asynchronously before anything is written.
 */
export async function writeTrainCheckpoint(path: string, c: { params: Map<string, tf.Variable>; optimizer: AdamWState; trainer: TrainerState }): Promise<void> {
  const moments = new Map<string, tf.Tensor>();
  for (const [n, t] of c.optimizer.m) moments.set(`m.${n}`, t);
  for (const [n, t] of c.optimizer.v) moments.set(`v.${n}`, t);
  const params = await encodeTensors(c.params);
  const optimizer = await encodeTensors(moments);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileAtomic(join(tmp, 'params.safetensors'), params);
  writeFileAtomic(join(tmp, 'optimizer.safetensors'), optimizer);
  const trainer: TrainerFile = { ...c.trainer, optimizerStep: c.optimizer.step };
  writeFileAtomic(join(tmp, 'trainer.json'), JSON.stringify(trainer, null, 2) + '\n');
  rmSync(path, { recursive: true, force: true });
  renameSync(tmp, path);
}

/** Reads a checkpoint folder; the caller owns (and disposes) the returned tensors. */
export function readTrainCheckpoint(path: string): TrainCheckpoint {
  for (const f of ['params.safetensors', 'optimizer.safetensors', 'trainer.json']) {
    if (!existsSync(join(path, f))) throw new Error(`checkpoint ${path}: ${f} is missing`);
  }
  const params = decodeTensors(readFileSync(join(path, 'params.safetensors')), join(path, 'params.safetensors'));
  const moments = decodeTensors(readFileSync(join(path, 'optimizer.safetensors')), join(path, 'optimizer.safetensors'));
  let trainer: TrainerFile;
  try {
    trainer = JSON.parse(readFileSync(join(path, 'trainer.json'), 'utf8')) as TrainerFile;
  } catch (e) {
    throw new Error(`checkpoint ${path}/trainer.json: invalid JSON (${(e as Error).message})`);
  }
  if (!Number.isInteger(trainer.step) || !Number.isInteger(trainer.optimizerStep)) {
    throw new Error(`checkpoint ${path}/trainer.json: step and optimizerStep must be integers`);
  }
  const m = new Map<string, tf.Tensor>();
  const v = new Map<string, tf.Tensor>();
  for (const [k, t] of moments) {
    if (k.startsWith('m.')) m.set(k.slice(2), t);
    else if (k.startsWith('v.')) v.set(k.slice(2), t);
    else throw new Error(`checkpoint ${path}/optimizer.safetensors: unexpected tensor "${k}"`);
  }
  return { params, optimizer: { step: trainer.optimizerStep, m, v }, trainer: { step: trainer.step, data: trainer.data, rng: trainer.rng } };
}

/** Only the parameters of a checkpoint folder (for evaluation and generation). */
export function readCheckpointParams(path: string): Map<string, tf.Tensor> {
  const file = join(path, 'params.safetensors');
  if (!existsSync(file)) throw new Error(`checkpoint ${path}: params.safetensors is missing`);
  return decodeTensors(readFileSync(file), file);
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
  // A checkpoint is one folder `step-N`; other entries of the same step are not checkpoints of this format.
  const names = run.listCheckpoints().reverse().map((c) => checkpointName(c.step)).filter((n) => n !== pointed && existsSync(join(dir, n)));
  const unreadable: string[] = [];
  for (const name of pointed !== undefined ? [pointed, ...names] : names) {
    try {
      const checkpoint = readTrainCheckpoint(join(dir, name));
      if (unreadable.length > 0) warn(`resuming from ${name} instead`);
      return { name, checkpoint };
    } catch (e) {
      unreadable.push(name);
      warn(`checkpoint ${join(dir, name)} is unreadable (${(e as Error).message})`);
    }
  }
  if (unreadable.length > 0) warn(`no intact checkpoint in ${dir}: training restarts from step 0`);
  return undefined;
}
