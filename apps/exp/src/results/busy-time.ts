/** A stretch of time, milliseconds since the epoch: [start, end]. */
export type Interval = readonly [start: number, end: number];

/**
 * Seconds covered by at least one of `intervals` (their union's length): of an experiment's
 * span from its first run's start to its last result, the time some stage was running. Where
 * the experiment was run in several invocations, the span also holds the gaps between them;
 * this does not. Intervals with an end before their start, or not finite, are skipped.
 */
export function coveredSeconds(intervals: readonly Interval[]): number {
  const sorted = intervals.filter(([s, e]) => Number.isFinite(s) && Number.isFinite(e) && e >= s).sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let open: [number, number] | undefined;
  for (const [s, e] of sorted) {
    if (open !== undefined && s <= open[1]) {
      open[1] = Math.max(open[1], e);
      continue;
    }
    if (open !== undefined) covered += open[1] - open[0];
    open = [s, e];
  }
  if (open !== undefined) covered += open[1] - open[0];
  return covered / 1000;
}
