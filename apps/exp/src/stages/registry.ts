import { benchStage } from './bench.js';
import { evalStage } from './eval.js';
import { sllmStage, tokenLmStage } from './latent.js';
import { lcmDiffusionStage, lcmEnergyStage, lcmMseStage } from './lcm.js';
import { svaeStage } from './svae.js';
import { tokenizerStage } from './tokenizer.js';
import type { AnyStage } from './types.js';

/** Every stage kind this build of the runner can execute. */
export const STAGES: readonly AnyStage[] = [
  tokenizerStage,
  svaeStage,
  tokenLmStage,
  sllmStage,
  lcmMseStage,
  lcmDiffusionStage,
  lcmEnergyStage,
  evalStage,
  benchStage,
] as unknown as readonly AnyStage[];

const REGISTRY: ReadonlyMap<string, AnyStage> = new Map(STAGES.map((s) => [s.kind, s]));

/** The stage kinds by name, built once; the runner passes it to every stage in its context. */
export function stageRegistry(): ReadonlyMap<string, AnyStage> {
  return REGISTRY;
}
