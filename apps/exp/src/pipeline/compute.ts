/**
 * What an artifact cost to make, counting the stages it builds on: an SLLM's training compute
 * includes its SentenceVAE's, which a comparison with a token LM must not leave out. Each stage
 * records its own training FLOPs, CPU seconds, wall seconds and backend, and every stage upstream
 * of it (by hash, so a stage two inputs share counts once) in its artifact's `meta.compute`.
 *
 * The measure of compute, by preference:
 * - FLOPs (the matrix products of the training steps, forward and backward; tensor's
 *   `FlopCounter`) where every stage counted them: the same config costs the same FLOPs on any
 *   machine, backend or thread count, as compute is matched in papers;
 * - on a GPU backend (webgpu) the stage's wall seconds, the GPU being the bottleneck (the host's
 *   CPU seconds are dispatch overhead and waiting there);
 * - else the process's CPU seconds (every thread; steadier than wall time on a shared machine,
 *   but not the same on one kernel thread as on several).
 */
import { dirname, join } from 'node:path';
import type { Artifact } from '../stages/types.js';

/** `meta` key of {@link StageCompute}. */
export const COMPUTE_KEY = 'compute';

export interface UpstreamCost {
  stage: string;
  /** Training FLOPs (see {@link StageCompute.flops}); absent in artifacts from before they were counted. */
  flops?: number;
  cpu_s: number;
  /** Wall seconds (resumed segments summed); absent in artifacts from before they were recorded. */
  wall_s?: number;
  /** The tfjs backend the stage ran on; absent likewise. */
  backend?: string;
}

export interface StageCompute {
  /**
   * Matrix-product FLOPs: a training stage's training steps (forward and backward, as an
   * uninterrupted run counts them), another stage's whole run (a tokenizer's: 0). Absent in
   * artifacts from before they were counted, and for a run resumed from a checkpoint without them.
   */
  flops?: number;
  /** CPU seconds (user + system, every thread of the process) of this stage, its resumed segments included. */
  cpu_s: number;
  /** Wall seconds of this stage, its resumed segments included (absent in artifacts from before they were recorded). */
  wall_s?: number;
  /** The tfjs backend it ran on (`native`, `webgpu`, ...; absent likewise). */
  backend?: string;
  /** Every stage this one builds on, by content hash, with what it cost. */
  upstream: Record<string, UpstreamCost>;
  /** False when an input came from a cache written before costs were recorded: the total is a lower bound. */
  complete: boolean;
}

function isCompute(v: unknown): v is StageCompute {
  const c = v as Partial<StageCompute> | null;
  return (
    c !== null &&
    typeof c === 'object' &&
    typeof c.cpu_s === 'number' &&
    (c.flops === undefined || typeof c.flops === 'number') &&
    typeof c.upstream === 'object' &&
    c.upstream !== null &&
    typeof c.complete === 'boolean'
  );
}

/** The cost an artifact recorded, or null for one made before costs were recorded. */
export function computeOf(a: Pick<Artifact, 'meta'>): StageCompute | null {
  const c = a.meta[COMPUTE_KEY];
  return isCompute(c) ? c : null;
}

/** Where a stage ran, for how long and with how many FLOPs, beside its CPU seconds. */
export interface StageClock {
  wallS: number;
  /** The active tfjs backend; undefined where none was initialised (stages that compute nothing). */
  backend: string | undefined;
  /** Its FLOPs (see {@link StageCompute.flops}); undefined where they were not counted. */
  flops?: number | undefined;
}

/** The optional fields of a cost record, present only where known. */
function known(c: { flops?: number | undefined; wall_s?: number | undefined; backend?: string | undefined }): Pick<StageCompute, 'flops' | 'wall_s' | 'backend'> {
  return {
    ...(c.flops !== undefined ? { flops: c.flops } : {}),
    ...(c.wall_s !== undefined ? { wall_s: c.wall_s } : {}),
    ...(c.backend ? { backend: c.backend } : {}),
  };
}

/** A stage's cost record from its own CPU seconds, its wall time and backend, and its input artifacts. */
export function stageCompute(cpuS: number, inputs: Record<string, Artifact | Artifact[]>, clock?: StageClock): StageCompute {
  const upstream: Record<string, UpstreamCost> = {};
  let complete = true;
  for (const a of Object.values(inputs).flat()) {
    const c = computeOf(a);
    if (c === null) {
      complete = false;
      continue;
    }
    Object.assign(upstream, c.upstream);
    upstream[a.hash] = { stage: a.stage, cpu_s: c.cpu_s, ...known(c) };
    complete &&= c.complete;
  }
  return { cpu_s: cpuS, ...known({ flops: clock?.flops, wall_s: clock?.wallS, backend: clock?.backend }), upstream, complete };
}

/** Backends whose stages are measured by wall seconds (the work runs on a device, not the host's CPU). */
export const DEVICE_BACKENDS: ReadonlySet<string> = new Set(['webgpu']);

/** How training compute is measured: FLOPs, wall seconds on a device backend, or CPU seconds. */
export type ComputeMeasure = 'flops' | 'device-wall' | 'cpu';

/** A stage and every stage upstream of it. */
const partsOf = (c: StageCompute): Array<StageCompute | UpstreamCost> => [c, ...Object.values(c.upstream)];

/**
 * The one measure that compares every cost of `costs` (each with the stages it builds on):
 * `flops` where all of them counted FLOPs; else `device-wall` where all ran on a device backend
 * (webgpu) with wall seconds recorded; else `cpu`.
 */
export function commonMeasure(costs: readonly StageCompute[]): ComputeMeasure {
  const parts = costs.flatMap(partsOf);
  if (parts.every((u) => u.flops !== undefined)) return 'flops';
  return parts.every((u) => u.wall_s !== undefined && u.backend !== undefined && DEVICE_BACKENDS.has(u.backend)) ? 'device-wall' : 'cpu';
}

/** The measure of one cost on its own: {@link commonMeasure} of it alone. */
export function computeMeasure(c: StageCompute): ComputeMeasure {
  return commonMeasure([c]);
}

/** What `measure` counts for one stage's cost: FLOPs, wall seconds or CPU seconds. */
export function amountOf(u: StageCompute | UpstreamCost, measure: ComputeMeasure): number {
  if (measure === 'flops') return u.flops!;
  return measure === 'device-wall' ? u.wall_s! : u.cpu_s;
}

/** The cost of the stage and of every stage upstream of it, by `measure` (CPU seconds by default). */
export function totalCost(c: StageCompute, measure: ComputeMeasure = 'cpu'): number {
  return Object.values(c.upstream).reduce((s, u) => s + amountOf(u, measure), amountOf(c, measure));
}

/** `meta` key of the FLOP budget a stage trained for (a token-lm with `flopsOf`): `{ stage, flops }`. */
export const FLOPS_OF_KEY = 'flopsOf';

/** The FLOP budget an artifact was trained to (a token-lm with `flopsOf`): the stage it matched and its FLOPs, or undefined. */
export function flopBudgetOf(a: Pick<Artifact, 'meta'>): { stage: string; flops: number } | undefined {
  const b = a.meta[FLOPS_OF_KEY] as { stage?: unknown; flops?: unknown } | undefined;
  return typeof b?.stage === 'string' && typeof b.flops === 'number' ? { stage: b.stage, flops: b.flops } : undefined;
}

/**
 * The training FLOPs of an artifact with every stage it builds on, where all of them were
 * counted (the eval's `training_tflop`, a model's side of a compute match); else null.
 */
export function countedFlops(a: Pick<Artifact, 'meta'>): number | null {
  const c = computeOf(a);
  return c !== null && c.complete && computeMeasure(c) === 'flops' ? totalCost(c, 'flops') : null;
}

/**
 * The training FLOPs of an artifact and of every stage it builds on (a FLOP budget to match);
 * throws, naming the stage and its cache folder, where any of them went uncounted.
 */
export function flopsWithUpstream(a: Artifact): number {
  const c = computeOf(a);
  // Upstream artifacts live beside this one in the cache, by hash.
  const folder = (hash: string): string => join(dirname(a.dir), hash);
  const uncounted =
    c === null || !c.complete
      ? [`${a.stage} (${a.dir})`]
      : [...(c.flops === undefined ? [`${a.stage} (${a.dir})`] : []), ...Object.entries(c.upstream).flatMap(([hash, u]) => (u.flops === undefined ? [`${u.stage} (${folder(hash)})`] : []))];
  if (uncounted.length > 0) {
    throw new Error(
      `stage ${a.stage} cannot give a FLOP budget: ${uncounted.join(', ')} did not count training FLOPs (cached before they were counted, or resumed from such a checkpoint); delete those cache folders to train them again`,
    );
  }
  return totalCost(c!, 'flops');
}
