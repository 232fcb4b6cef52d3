/**
 * What an artifact cost to make, counting the stages it builds on: an SLLM's training compute
 * includes its SentenceVAE's, which a comparison with a token LM must not leave out. Each stage
 * records its own CPU seconds, wall seconds and backend, and every stage upstream of it (by
 * hash, so a stage two inputs share counts once) in its artifact's `meta.compute`.
 *
 * Which seconds measure compute depends on where the work ran: on a CPU backend the process's
 * CPU seconds (every thread; steadier than wall time on a shared machine); on a GPU backend
 * (webgpu) the host's CPU seconds say little about the device (they are dispatch overhead and
 * waiting), so there the stage's wall seconds are the measure, the GPU being the bottleneck.
 */
import type { Artifact } from '../stages/types.js';

/** `meta` key of {@link StageCompute}. */
export const COMPUTE_KEY = 'compute';

export interface UpstreamCost {
  stage: string;
  cpu_s: number;
  /** Wall seconds (resumed segments summed); absent in artifacts from before they were recorded. */
  wall_s?: number;
  /** The tfjs backend the stage ran on; absent likewise. */
  backend?: string;
}

export interface StageCompute {
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
  return c !== null && typeof c === 'object' && typeof c.cpu_s === 'number' && typeof c.upstream === 'object' && c.upstream !== null && typeof c.complete === 'boolean';
}

/** The cost an artifact recorded, or null for one made before costs were recorded. */
export function computeOf(a: Pick<Artifact, 'meta'>): StageCompute | null {
  const c = a.meta[COMPUTE_KEY];
  return isCompute(c) ? c : null;
}

/** Where a stage ran and for how long, beside its CPU seconds. */
export interface StageClock {
  wallS: number;
  /** The active tfjs backend; undefined where none was initialised (stages that compute nothing). */
  backend: string | undefined;
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
    upstream[a.hash] = { stage: a.stage, cpu_s: c.cpu_s, ...(c.wall_s !== undefined ? { wall_s: c.wall_s } : {}), ...(c.backend !== undefined ? { backend: c.backend } : {}) };
    complete &&= c.complete;
  }
  return { cpu_s: cpuS, ...(clock ? { wall_s: clock.wallS } : {}), ...(clock?.backend ? { backend: clock.backend } : {}), upstream, complete };
}

/** Backends whose stages are measured by wall seconds (the work runs on a device, not the host's CPU). */
export const DEVICE_BACKENDS: ReadonlySet<string> = new Set(['webgpu']);

/** How training compute is measured: CPU seconds, or wall seconds where everything ran on a device backend. */
export type ComputeMeasure = 'cpu' | 'device-wall';

/**
 * `device-wall` when this stage and every stage upstream of it ran on a device backend (webgpu)
 * with wall seconds recorded, else `cpu`.
 */
export function computeMeasure(c: StageCompute): ComputeMeasure {
  const parts: Array<{ wall_s?: number; backend?: string }> = [c, ...Object.values(c.upstream)];
  return parts.every((u) => u.wall_s !== undefined && u.backend !== undefined && DEVICE_BACKENDS.has(u.backend)) ? 'device-wall' : 'cpu';
}

/** The seconds `measure` counts for one stage's cost. */
export function secondsOf(u: { cpu_s: number; wall_s?: number }, measure: ComputeMeasure): number {
  return measure === 'device-wall' ? u.wall_s! : u.cpu_s;
}

/** Seconds of the stage and every stage upstream of it, by `measure` (CPU seconds by default). */
export function totalSeconds(c: StageCompute, measure: ComputeMeasure = 'cpu'): number {
  return Object.values(c.upstream).reduce((s, u) => s + secondsOf(u, measure), secondsOf(c, measure));
}
