/**
 * What every training stage adapter does, once: build the model, train it with {@link fit},
 * compute its eval results, write them to the run's summary.json, save the artifact, and dispose
 * the model (and whatever else it holds) whether the stage succeeds or fails, so a failed or
 * interrupted stage leaks no tensors into the next one.
 */
import type { EvalValue } from '@sentencelab/runs';
import type { StageContext } from '../stages/types.js';
import { fit, type FitOptions } from './fit.js';
import type { TrainResult } from './loop.js';

export interface TrainStageOptions<M extends { dispose(): void }, B, R extends Record<string, EvalValue>> {
  /** Builds the model (called first; disposed at the end whatever happens). */
  build(): M;
  /** The training set-up for `model`: trainable view, batches, validation, samples, RNG, `train:` section. */
  fit(model: M): FitOptions<B>;
  /** Eval results of the trained model (written to summary.json). */
  results(model: M, result: TrainResult): Promise<R> | R;
  /** Writes the artifact's files into `ctx.outDir`; returns them by role. */
  save(model: M, result: TrainResult): Promise<Record<string, string>>;
  /** Anything else to free at the end (validation batches, an input model), also on failure. */
  dispose?(): void;
}

export interface TrainedStage<R> {
  result: TrainResult;
  evalResults: R;
  files: Record<string, string>;
}

export async function trainStage<M extends { dispose(): void }, B, R extends Record<string, EvalValue>>(
  ctx: StageContext<unknown>,
  o: TrainStageOptions<M, B, R>,
): Promise<TrainedStage<R>> {
  if (!ctx.run) throw new Error(`stage ${ctx.name}: a training stage needs a run folder`);
  let model: M | undefined;
  try {
    model = o.build();
    const result = await fit(ctx, o.fit(model));
    const evalResults = await o.results(model, result);
    ctx.run.writeSummary(evalResults);
    const files = await o.save(model, result);
    return { result, evalResults, files };
  } finally {
    model?.dispose();
    o.dispose?.();
  }
}
