/**
 * Training for a number of FLOPs instead of a number of steps: a compute-matched baseline
 * trains as many steps as spend the FLOPs another model (with the stages it builds on) spent.
 *
 * The steps are fixed before training (the learning-rate schedule spans them, and a resumed run
 * must take the same): one step is counted on the stream's first batch, without updating
 * anything, and the budget divided by it, rounded to the nearest step. Where every batch has the
 * same shape (a token LM's windows) the steps then spend the budget to within half a step; an
 * epoch's shorter last batch makes the spend a little lower. The loop counts what the steps
 * really spent, and the eval prints it beside the model it was matched to.
 */
import * as tf from '@tensorflow/tfjs-core';
import { FlopCounter, formatFlops, valueAndGrads, type Rng } from '@sentencelab/tensor';
import type { BatchStream, Trainable } from './loop.js';

/**
 * Matrix-product FLOPs of one training step (its batch, forward and backward) on the stream's
 * next batch. Leaves no trace: the stream is sought back to where it was and every generator
 * restored, so training then takes the same batches and draws as without it.
 */
export async function flopsPerStep<B>(model: Trainable<B>, batches: BatchStream<B>, rngs: Readonly<Record<string, Rng>> = {}): Promise<number> {
  const position = batches.position();
  const states = Object.values(rngs).map((rng) => [rng, rng.getState()] as const);
  const counter = new FlopCounter();
  try {
    await counter.during(async () => {
      const batch = batches.next();
      try {
        const out = await valueAndGrads([...model.parameterMap()], () => model.loss(batch, 0));
        tf.dispose([...out.grads.values()]);
      } finally {
        batches.dispose?.(batch);
      }
    });
  } finally {
    batches.seek(position);
    for (const [rng, state] of states) rng.setState(state);
  }
  return counter.flops;
}

/** A FLOP budget for a training stage: how many, and where they come from (for messages). */
export interface FlopBudget {
  flops: number;
  /** E.g. `stage sllm-h1 with its upstream`. */
  of: string;
}

/** The steps that spend `budget` at `perStep` FLOPs each (the nearest count, at least 1). */
export function stepsForFlops(budget: FlopBudget, perStep: number): number {
  if (!(perStep > 0)) throw new Error(`a training step counted ${perStep} FLOPs: cannot train for ${formatFlops(budget.flops)} (${budget.of}) in steps of it`);
  if (!(budget.flops > 0)) throw new Error(`the FLOP budget (${budget.of}) is ${budget.flops}: nothing to train for`);
  return Math.max(1, Math.round(budget.flops / perStep));
}
