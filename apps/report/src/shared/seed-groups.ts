import type { RunRow, Scalar } from './types.js';

/** A config key that only chooses the random seed (`seed`, `train.seed`, `data.seed`...). */
export function isSeedKey(key: string): boolean {
  return key === 'seed' || key.endsWith('.seed');
}

/** Groups run ids whose experiment and config agree on everything but seed keys; order of first appearance. */
export function groupBySeed(runs: readonly { id: string; experiment: string; config: Record<string, Scalar> }[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const run of runs) {
    const rest = Object.entries(run.config)
      .filter(([k]) => !isSeedKey(k))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = JSON.stringify([run.experiment, rest]);
    const list = groups.get(key);
    if (list) list.push(run.id);
    else groups.set(key, [run.id]);
  }
  return [...groups.values()];
}

/**
 * The runs of `rows` that differ only in their seed, grouped ({@link groupBySeed}) on their
 * config and their recorded run info (`info.*`: the stage and its kind): the stage runs of one
 * `pnpm exp` pipeline point store the same pipeline config, and only their info tells a
 * SentenceVAE from the heads trained over it.
 */
export function seedGroupsOf(rows: readonly RunRow[]): RunRow[][] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const keyed = rows.map((r) => ({ id: r.id, experiment: r.experiment, config: { ...(r.config ?? {}), ...prefixed('info.', r.info ?? {}) } }));
  return groupBySeed(keyed).map((ids) => ids.map((id) => byId.get(id)!));
}

function prefixed<T>(prefix: string, record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [`${prefix}${k}`, v]));
}

export interface Curve {
  x: readonly number[];
  y: readonly (number | null)[];
}

export interface BandCurve {
  x: number[];
  mean: number[];
  lo: number[];
  hi: number[];
  /** How many runs had a value at each x. */
  n: number[];
}

/**
 * Mean with a min/max or mean±std band over curves, aligned on equal x values (steps). An x
 * where only some runs have a value averages those runs.
 */
export function aggregateCurves(curves: readonly Curve[], band: 'minmax' | 'std'): BandCurve {
  const byX = new Map<number, number[]>();
  for (const c of curves) {
    c.x.forEach((x, i) => {
      const y = c.y[i];
      if (y === null || y === undefined || !Number.isFinite(y)) return;
      const list = byX.get(x);
      if (list) list.push(y);
      else byX.set(x, [y]);
    });
  }
  const out: BandCurve = { x: [], mean: [], lo: [], hi: [], n: [] };
  for (const x of [...byX.keys()].sort((a, b) => a - b)) {
    const ys = byX.get(x)!;
    const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
    out.x.push(x);
    out.mean.push(mean);
    out.n.push(ys.length);
    if (band === 'minmax') {
      out.lo.push(Math.min(...ys));
      out.hi.push(Math.max(...ys));
    } else {
      const std = Math.sqrt(ys.reduce((a, y) => a + (y - mean) ** 2, 0) / ys.length);
      out.lo.push(mean - std);
      out.hi.push(mean + std);
    }
  }
  return out;
}
