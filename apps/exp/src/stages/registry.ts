import { evalStage } from './eval.js';
import { lcmDiffusionStage, lcmMseStage } from './lcm.js';
import { svaeStage } from './svae.js';
import { tokenizerStage } from './tokenizer.js';
import type { AnyStage } from './types.js';

/** Every stage kind this build of the runner can execute. */
export const STAGES: readonly AnyStage[] = [tokenizerStage, svaeStage, lcmMseStage, lcmDiffusionStage, evalStage] as unknown as readonly AnyStage[];

export function stageRegistry(): ReadonlyMap<string, AnyStage> {
  return new Map(STAGES.map((s) => [s.kind, s]));
}
