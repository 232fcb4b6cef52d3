/**
 * A run's `summary.json` eval figures as `show` and `compare` print them: a figure's 95%
 * interval beside it (`100.7 [91.5, 112.7]`), or the range of its repeated measurements
 * (`1229 (1022-1280)`), instead of three rows, PPL by context, the energy score by horizon and
 * the costs of stages without a run folder on one readable line each, anything else as JSON.
 */
import { ES_BY_HORIZON_KEY, PPL_BY_CONTEXT_KEY, spreadBase, storedSpread, type EvalValue } from '@sentencelab/runs';
import { STAGE_COSTS_KEY } from '../pipeline/execute.js';
import { bucketCell, horizonBuckets, type HorizonBucket } from '../stages/horizon-table.js';
import { figureWithSpread, formatCell, type Cell } from '../table.js';

function isRecord(v: EvalValue | undefined): v is { [key: string]: EvalValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `0-32: 110.5 (2708 tokens), 32-64: ...`: buckets that scored something. */
function contextCell(v: { [key: string]: EvalValue }): string {
  const parts = Object.entries(v).flatMap(([bucket, b]) => {
    if (!isRecord(b) || typeof b['tokens'] !== 'number' || b['tokens'] === 0) return [];
    return [`${bucket}: ${typeof b['ppl'] === 'number' ? formatCell(b['ppl']) : '-'} (${b['tokens']} tokens)`];
  });
  return parts.length > 0 ? parts.join(', ') : '-';
}

/** `1 ahead 2.410 (- train-dist -0.3100 [-0.4000, -0.2200]), 2 ahead ...; 40 targets`. */
function horizonCell(buckets: readonly HorizonBucket[]): string {
  const parts = buckets.map((b) => {
    const diff = bucketCell(b, 'diff_train_dist');
    return `${b.horizon} ahead ${formatCell(b.figures['energy_score'])}${diff === undefined ? '' : ` (- train-dist ${diff})`}`;
  });
  const targets = buckets[0]!.figures['targets'];
  return `${parts.join(', ')}${targets === undefined ? '' : `; ${targets} targets`}`;
}

/** `eval 10.4 s wall, 10.8 CPU s; bench ...`. */
function costsCell(v: { [key: string]: EvalValue }): string {
  return Object.entries(v)
    .map(([stage, c]) => {
      if (!isRecord(c) || typeof c['wall_s'] !== 'number') return `${stage} ${JSON.stringify(c)}`;
      const cpu = typeof c['cpu_user_s'] === 'number' && typeof c['cpu_system_s'] === 'number' ? `, ${formatCell(c['cpu_user_s'] + c['cpu_system_s'])} CPU s` : '';
      return `${stage} ${formatCell(c['wall_s'])} s wall${cpu}`;
    })
    .join('; ');
}

/** The eval figures as [key, cell] rows in the record's order (interval and range keys folded into their figure's cell). */
export function evalCells(record: Readonly<Record<string, EvalValue>>): [string, Cell][] {
  const rows: [string, Cell][] = [];
  for (const [key, v] of Object.entries(record)) {
    if (spreadBase(key, record) !== undefined) continue; // printed with its figure
    const spread = storedSpread(record, key);
    if (typeof v === 'number' && spread) rows.push([key, figureWithSpread(v, spread)]);
    else if (typeof v === 'number' || typeof v === 'string') rows.push([key, v]);
    else if (key === PPL_BY_CONTEXT_KEY && isRecord(v)) rows.push([key, contextCell(v)]);
    else if (key === STAGE_COSTS_KEY && isRecord(v)) rows.push([key, costsCell(v)]);
    else {
      const buckets = key === ES_BY_HORIZON_KEY ? horizonBuckets(v) : undefined;
      rows.push([key, buckets ? horizonCell(buckets) : JSON.stringify(v)]);
    }
  }
  return rows;
}
