/**
 * What an artifact cost to make, counting the stages it builds on: an SLLM's training compute
 * includes its SentenceVAE's, which a comparison with a token LM must not leave out. Each stage
 * records its own CPU seconds and every stage upstream of it (by hash, so a stage two inputs
 * share counts once) in its artifact's `meta.compute`.
 */
import type { Artifact } from '../stages/types.js';

/** `meta` key of {@link StageCompute}. */
export const COMPUTE_KEY = 'compute';

export interface UpstreamCost {
  stage: string;
  cpu_s: number;
}

export interface StageCompute {
  /** CPU seconds (user + system, every thread of the process) of this stage, its resumed segments included. */
  cpu_s: number;
  /** Every stage this one builds on, by content hash, with what it cost. */
  upstream: Record<string, UpstreamCost>;
  /** False when an input came from a cache written before costs were recorded: the total is a lower bound. */
  complete: boolean;
}

function isCompute(v: unknown): v is StageCompute {
  const c = v as Partial<StageCompute> | null;
  return c !== null && typeof c === 'object' && typeof c.cpu_s === 'number' && typeof c.upstream === 'object' && c.upstream !== null && typeof c.complete === 'boolean';
}

/** The cost an artifact recorded, or null for one made before costs were recorded. */
export function computeOf(a: Pick<Artifact, 'meta'>): StageCompute | null {
  const c = a.meta[COMPUTE_KEY];
  return isCompute(c) ? c : null;
}

/** A stage's cost record from its own CPU seconds and its input artifacts. */
export function stageCompute(cpuS: number, inputs: Record<string, Artifact | Artifact[]>): StageCompute {
  const upstream: Record<string, UpstreamCost> = {};
  let complete = true;
  for (const a of Object.values(inputs).flat()) {
    const c = computeOf(a);
    if (c === null) {
      complete = false;
      continue;
    }
    Object.assign(upstream, c.upstream);
    upstream[a.hash] = { stage: a.stage, cpu_s: c.cpu_s };
    complete &&= c.complete;
  }
  return { cpu_s: cpuS, upstream, complete };
}

/** CPU seconds of the stage and every stage upstream of it. */
export function totalCpuSeconds(c: StageCompute): number {
  return Object.values(c.upstream).reduce((s, u) => s + u.cpu_s, c.cpu_s);
}
