import type { RunRow, Scalar } from './types.js';

const STATS = ['last', 'min', 'max', 'best', 'bestStep', 'lastStep', 'count'] as const;

/**
 * The value a field name refers to on a run row, used by the filter, sort, group-by and pivot:
 * `name|status|experiment|run|seed|backend`, `config.<key>`, `eval.<key>`, `info.<key>` (meta
 * backendInfo, e.g. info.stage), `<metric>.<stat>` (stat: last, min, max, best, bestStep), or
 * a bare key looked up in config, then eval, then info, then as a metric's last value.
 */
export function fieldValue(row: RunRow, field: string): Scalar | undefined {
  switch (field) {
    case 'name':
    case 'id':
      return row.id;
    case 'run':
      return row.runId;
    case 'status':
      return row.ok ? (row.status ?? null) : 'error';
    case 'experiment':
      return row.experiment;
    case 'seed':
      return row.seed ?? row.config?.seed;
    case 'backend':
      return row.backend;
  }
  if (field.startsWith('config.') && row.config && field.slice(7) in row.config) return row.config[field.slice(7)];
  if (field.startsWith('eval.') && row.eval && field.slice(5) in row.eval) return row.eval[field.slice(5)];
  if (field.startsWith('info.') && row.info && field.slice(5) in row.info) return row.info[field.slice(5)];
  if (row.config && field in row.config) return row.config[field];
  if (row.eval && field in row.eval) return row.eval[field];
  if (row.info && field in row.info) return row.info[field];
  if (row.metrics) {
    if (field in row.metrics) return row.metrics[field]!.last;
    const dot = field.lastIndexOf('.');
    const stat = field.slice(dot + 1) as (typeof STATS)[number];
    const metric = row.metrics[field.slice(0, dot)];
    if (dot > 0 && metric && (STATS as readonly string[]).includes(stat)) return metric[stat];
  }
  return undefined;
}

/** Field names offered in pickers: meta fields, config keys, eval keys, metrics (`best`: those with a best value, i.e. a better side). */
export function knownFields(rows: readonly RunRow[]): { config: string[]; eval: string[]; metrics: string[]; best: string[]; info: string[] } {
  const config = new Set<string>();
  const info = new Set<string>();
  const evalKeys = new Set<string>();
  const metrics = new Set<string>();
  const best = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r.config ?? {})) config.add(k);
    for (const [k, v] of Object.entries(r.eval ?? {})) if (typeof v === 'number') evalKeys.add(k);
    for (const [k, s] of Object.entries(r.metrics ?? {})) {
      metrics.add(k);
      if (s.best !== undefined) best.add(k);
    }
    for (const k of Object.keys(r.info ?? {})) info.add(k);
  }
  return { config: [...config].sort(), eval: [...evalKeys].sort(), metrics: [...metrics].sort(), best: [...best].sort(), info: [...info].sort() };
}


/** Sort comparator on one field: numbers numerically, then strings, missing last. */
export function compareField(a: RunRow, b: RunRow, field: string): number {
  return compareScalars(fieldValue(a, field), fieldValue(b, field));
}

// One collator for all comparisons: localeCompare with options builds a new one per call.
const collator = new Intl.Collator(undefined, { numeric: true });

export function compareScalars(x: Scalar | undefined, y: Scalar | undefined): number {
  const xMissing = x === undefined || x === null;
  const yMissing = y === undefined || y === null;
  if (xMissing || yMissing) return xMissing === yMissing ? 0 : xMissing ? 1 : -1;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  return collator.compare(String(x), String(y));
}
