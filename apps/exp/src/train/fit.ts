/**
 * What every training stage does with the loop: AdamW + schedule from the `train:` section,
 * a progress bar named after the stage, validation loss on fixed batches, and the trained
 * parameters saved into the stage's artifact folder.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, formatFlops, fromStoredTensor, loadCheckpoint, lrSchedule, saveCheckpoint, type NamedParameters, type Rng } from '@sentencelab/tensor';
import type { StageContext } from '../stages/types.js';
import { flopsPerStep, stepsForFlops, type FlopBudget } from './flop-budget.js';
import { trainLoop, type BatchStream, type Trainable, type TrainLoopOptions, type TrainResult } from './loop.js';
import { progressFor } from './progress.js';
import type { TrainConfig } from './schema.js';

export interface FitOptions<B> {
  model: Trainable<B> & { namedParameters(): NamedParameters };
  train: TrainConfig;
  batches: BatchStream<B>;
  /** Validation metrics (e.g. `{ loss }`), called in eval mode. */
  evaluate?: (step: number) => Promise<Record<string, number>> | Record<string, number>;
  /** The model's published generators (`model.rngs`), restored exactly on resume. */
  rngs?: Readonly<Record<string, Rng>>;
  /** Text samples written to samples.jsonl with each evaluation (see `TrainLoopOptions.samples`). */
  samples?: TrainLoopOptions<B>['samples'];
  /** Train as many steps as spend these FLOPs, in place of `train.steps` (a compute-matched baseline; see flop-budget.ts). */
  flopBudget?: FlopBudget;
}

export async function fit<B>(ctx: StageContext<unknown>, o: FitOptions<B>): Promise<TrainResult> {
  const run = ctx.run;
  if (!run) throw new Error(`stage ${ctx.name}: a training stage needs a run folder`);
  const t = o.flopBudget ? { ...o.train, steps: await budgetedSteps(ctx, o, o.flopBudget) } : o.train;
  const optimizer = new AdamW(o.model.namedParameters(), { lr: t.lr, beta1: t.beta1, beta2: t.beta2, weightDecay: t.weightDecay });
  const lrAt = lrSchedule({ kind: t.schedule, lr: t.lr, warmupSteps: t.warmupSteps, totalSteps: t.steps, minLr: t.lr * t.minLrRatio });
  try {
    return await trainLoop({
      model: o.model,
      optimizer,
      lrAt,
      clipNorm: t.clipNorm,
      batches: o.batches,
      ...(o.rngs ? { rngs: o.rngs } : {}),
      ...(o.evaluate ? { evaluate: o.evaluate } : {}),
      ...(o.samples ? { samples: o.samples } : {}),
      run,
      steps: t.steps,
      evalEvery: t.evalEvery,
      checkpointEvery: t.checkpointEvery,
      keepCheckpoints: t.keepCheckpoints,
      logEvery: t.logEvery,
      resume: ctx.resume,
      signal: ctx.signal,
      progress: (ctx.progress ?? progressFor)(`[${ctx.name}]`),
    });
  } finally {
    optimizer.dispose();
  }
}

/** The steps that spend `budget` (logged to the user and the run); refused when the warmup would not fit in them. */
async function budgetedSteps<B>(ctx: StageContext<unknown>, o: FitOptions<B>, budget: FlopBudget): Promise<number> {
  const perStep = await flopsPerStep(o.model, o.batches, o.rngs);
  const steps = stepsForFlops(budget, perStep);
  const t = o.train;
  if (t.schedule !== 'constant' && t.warmupSteps >= steps) {
    throw new Error(
      `stage ${ctx.name}: ${formatFlops(budget.flops)} (${budget.of}) are ${steps} steps of ${formatFlops(perStep)}, not more than train.warmupSteps ${t.warmupSteps}: lower warmupSteps or use schedule: constant`,
    );
  }
  ctx.log(`training ${steps} steps, in place of train.steps: ${formatFlops(budget.flops)} (${budget.of}) in steps of ${formatFlops(perStep)}`);
  return steps;
}

/**
 * Mean loss over fixed batches (eval mode is the caller's: `trainLoop` sets it); the batches'
 * losses are read back together, with one asynchronous read.
 */
export async function meanLoss<B>(model: Trainable<B>, batches: readonly B[], step = 0): Promise<number> {
  if (batches.length === 0) return NaN;
  const losses = batches.map((b) =>
    tf.tidy(() => {
      const out = model.loss(b, step);
      return out instanceof tf.Tensor ? out : out.loss;
    }),
  );
  const stacked = tf.stack(losses);
  tf.dispose(losses);
  let values: Float32Array;
  try {
    values = (await stacked.data()) as Float32Array;
  } finally {
    stacked.dispose();
  }
  let sum = 0;
  for (const v of values) sum += v;
  return sum / batches.length;
}

/**
 * Saves a trained model as `<outDir>/<file>` in tensor's checkpoint format (the one format):
 * parameters, the model config and the step it was trained to, sha256-checked, written atomically.
 */
export async function saveModel(outDir: string, params: Map<string, tf.Tensor>, config: unknown, step: number, file = 'model.safetensors'): Promise<Record<string, string>> {
  await saveCheckpoint(join(outDir, file), { model: { namedParameters: () => [...params] }, step, config });
  return { [file.replace(/\.safetensors$/, '')]: file };
}

/** The config a saved model was built with, without reading its weights into tensors. */
export function loadModelConfig<C>(dir: string, file = 'model.safetensors'): C {
  return loadCheckpoint(join(dir, file)).config as C;
}

/** Reads what `saveModel` wrote: the parameters (caller disposes) and the config. */
export function loadModel<C>(dir: string, file = 'model.safetensors'): { params: Map<string, tf.Tensor>; config: C } {
  const ck = loadCheckpoint(join(dir, file));
  return { params: new Map([...ck.params].map(([n, t]) => [n, fromStoredTensor(t)])), config: ck.config as C };
}
