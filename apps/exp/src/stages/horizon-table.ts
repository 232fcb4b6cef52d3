/**
 * The concept heads' energy score by horizon ({@link ES_BY_HORIZON_KEY}) as a text table: how
 * far into its own generation a head stays a better distribution of the next vector than
 * sampling the training embeddings.
 */
import { ES_BY_HORIZON_KEY, intervalKeys, storedBounds, storedSpread } from '@sentencelab/runs';
import { figureWithSpread, formatCell, renderTable, type Cell } from '../table.js';

/** One horizon of a head's family: `energy_score`, `train_dist`, `diff_train_dist`, `diff_next` (from horizon 2), `spread_ratio` (each with its interval keys), `targets`. */
export interface HorizonBucket {
  horizon: number;
  figures: Readonly<Record<string, number>>;
}

/** A stored family's horizons in order (1, 2, ...), each with its numeric figures; undefined when `value` holds none. */
export function horizonBuckets(value: unknown): HorizonBucket[] | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const out: HorizonBucket[] = [];
  for (const [key, figures] of Object.entries(value)) {
    const horizon = Number(key);
    if (!Number.isInteger(horizon) || horizon < 1 || figures === null || typeof figures !== 'object') continue;
    const numbers = Object.fromEntries(Object.entries(figures).filter((e): e is [string, number] => typeof e[1] === 'number'));
    out.push({ horizon, figures: numbers });
  }
  return out.length > 0 ? out.sort((a, b) => a.horizon - b.horizon) : undefined;
}

/** A bucket's figure `key` with its stored interval (`-0.3100 [-0.4000, -0.2200]`), or alone; undefined when it has none. */
export function bucketCell(b: HorizonBucket | undefined, key: string): string | undefined {
  const v = b?.figures[key];
  if (v === undefined) return undefined;
  const spread = storedSpread(b!.figures, key);
  return spread ? figureWithSpread(v, spread) : formatCell(v);
}

/**
 * The last horizon up to which the head's energy score stays resolved below the training
 * distribution's (every horizon from 1 to it with its `diff_train_dist` interval wholly below
 * 0); 0 when already horizon 1's is not, undefined when horizon 1 has no interval.
 */
export function horizonBelowTrainDist(buckets: readonly HorizonBucket[]): number | undefined {
  const keys = intervalKeys('diff_train_dist');
  let last = 0;
  for (const b of buckets) {
    const ci = storedBounds(b.figures, keys);
    if (ci === undefined) return b === buckets[0] ? undefined : last;
    if (b.horizon !== last + 1 || ci.high >= 0) break;
    last = b.horizon;
  }
  return last;
}

/**
 * Two tables, one row per head with a family of more than two horizons (two are the two-ahead
 * table's): per horizon its energy score, then minus the training distribution's on the same
 * targets with its 95% interval; how many targets; and through which horizon the head stays
 * resolved below the training distribution. Then per horizon from 2 its energy score minus
 * horizon 1's, target by target (`diff_next`). Undefined when no head has such a family.
 */
export function horizonTable(heads: readonly { stage: string; kind: string; family: unknown }[]): string | undefined {
  const rows = heads.flatMap((h) => {
    const buckets = horizonBuckets(h.family);
    return buckets && buckets.length > 2 ? [{ ...h, buckets }] : [];
  });
  if (rows.length === 0) return undefined;
  const horizons = [...new Set(rows.flatMap((r) => r.buckets.map((b) => b.horizon)))].sort((a, b) => a - b);
  const header = ['model', 'kind', 'targets', 'train-dist ES', ...horizons.map((h) => `${h} ahead: ES, - train-dist`), 'below train-dist through'];
  const cell = (b: HorizonBucket | undefined): Cell => {
    const es = b?.figures['energy_score'];
    const diff = bucketCell(b, 'diff_train_dist');
    return es === undefined || diff === undefined ? undefined : `${formatCell(es)}, ${diff}`;
  };
  const body = rows.map((r) => {
    const through = horizonBelowTrainDist(r.buckets);
    return [
      r.stage,
      r.kind,
      r.buckets[0]!.figures['targets'],
      r.buckets[0]!.figures['train_dist'],
      ...horizons.map((h) => cell(r.buckets.find((b) => b.horizon === h))),
      through === undefined ? undefined : through === 0 ? 'none' : `${through} ahead`,
    ];
  });
  const later = horizons.filter((h) => h > 1);
  const costs = rows.map((r) => [r.stage, r.kind, ...later.map((h) => bucketCell(r.buckets.find((b) => b.horizon === h), 'diff_next'))]);
  return [
    `Concept heads by horizon (${ES_BY_HORIZON_KEY}): the same targets at every horizon h, drawn after the head's own draws of the h - 1 sentences before (1 ahead: teacher-forced); energy score, then minus the training distribution's on those targets [95% interval] (below 0: still a better distribution than sampling the training embeddings):`,
    renderTable(header, body),
    '',
    "What reading its own draws costs each head: its energy score h ahead minus 1 ahead on the same targets, target by target [95% interval] (above 0: its own draws as context cost it; paired, so tighter than either figure's interval):",
    renderTable(['model', 'kind', ...later.map((h) => `${h} ahead - 1 ahead`)], costs),
  ].join('\n');
}
