/**
 * What every training stage does with the loop: AdamW + schedule from the `train:` section,
 * a progress bar named after the stage, validation loss on fixed batches, and the trained
 * parameters saved into the stage's artifact folder.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, decodeTensors, encodeTensors, lrSchedule, type NamedParameters } from '@sentencelab/tensor';
import type { StageContext } from '../stages/types.js';
import { trainLoop, type BatchStream, type StatefulRng, type Trainable, type TrainResult } from './loop.js';
import { progressFor } from './progress.js';
import type { TrainConfig } from './schema.js';

export interface FitOptions<B> {
  model: Trainable<B> & { namedParameters(): NamedParameters };
  train: TrainConfig;
  batches: BatchStream<B>;
  /** Validation metrics (e.g. `{ loss }`), called in eval mode. */
  evaluate?: (step: number) => Promise<Record<string, number>> | Record<string, number>;
  rng?: StatefulRng;
}

export async function fit<B>(ctx: StageContext<unknown>, o: FitOptions<B>): Promise<TrainResult> {
  const run = ctx.run;
  if (!run) throw new Error(`stage ${ctx.name}: a training stage needs a run folder`);
  const t = o.train;
  const optimizer = new AdamW(o.model.namedParameters(), { lr: t.lr, beta1: t.beta1, beta2: t.beta2, weightDecay: t.weightDecay });
  const lrAt = lrSchedule({ kind: t.schedule, lr: t.lr, warmupSteps: t.warmupSteps, totalSteps: t.steps, minLr: t.lr * t.minLrRatio });
  try {
    return await trainLoop({
      model: o.model,
      optimizer,
      lrAt,
      clipNorm: t.clipNorm,
      batches: o.batches,
      ...(o.rng ? { rng: o.rng } : {}),
      ...(o.evaluate ? { evaluate: o.evaluate } : {}),
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

/** Saves parameters as `<outDir>/<file>` (safetensors) and the model config beside it as JSON. */
export async function saveModel(outDir: string, params: Map<string, tf.Tensor>, config: unknown, file = 'model.safetensors'): Promise<Record<string, string>> {
  writeFileSync(join(outDir, file), await encodeTensors(params));
  const configFile = file.replace(/\.safetensors$/, '.json');
  writeFileSync(join(outDir, configFile), JSON.stringify(config, null, 2) + '\n');
  return { [file.replace(/\.safetensors$/, '')]: file, [`${file.replace(/\.safetensors$/, '')}Config`]: configFile };
}

/** Reads what `saveModel` wrote: the parameters (caller disposes) and the config. */
export function loadModel<C>(dir: string, file = 'model.safetensors'): { params: Map<string, tf.Tensor>; config: C } {
  const params = decodeTensors(readFileSync(join(dir, file)), join(dir, file));
  const config = JSON.parse(readFileSync(join(dir, file.replace(/\.safetensors$/, '.json')), 'utf8')) as C;
  return { params, config };
}
