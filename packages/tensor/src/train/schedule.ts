/** Learning-rate schedules: step (0-based) -> lr. */

export type ScheduleKind = 'constant' | 'cosine' | 'linear';

export interface ScheduleOptions {
  kind: ScheduleKind;
  /** Peak learning rate (reached at the end of warmup). */
  lr: number;
  /** Linear warmup steps from 0 to lr; default 0. */
  warmupSteps?: number;
  /** Total steps (cosine/linear decay ends here). */
  totalSteps?: number;
  /** Floor after decay; default 0. */
  minLr?: number;
}

export type Schedule = (step: number) => number;

/**
 * warmup: lr * (step + 1) / warmupSteps; then constant, cosine (lr -> minLr over the
 * remaining steps) or linear decay; after totalSteps stays at minLr.
 */
export function lrSchedule(o: ScheduleOptions): Schedule {
  const warmup = o.warmupSteps ?? 0;
  const minLr = o.minLr ?? 0;
  if (o.kind !== 'constant' && !(o.totalSteps !== undefined && o.totalSteps > warmup)) {
    throw new Error(`lrSchedule(${o.kind}): totalSteps (${o.totalSteps}) must exceed warmupSteps (${warmup})`);
  }
  return (step: number) => {
    if (step < warmup) return (o.lr * (step + 1)) / warmup;
    if (o.kind === 'constant') return o.lr;
    const total = o.totalSteps!;
    const progress = Math.min(1, (step - warmup) / (total - warmup));
    const frac = o.kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
    return minLr + (o.lr - minLr) * frac;
  };
}
