import type { Scalar } from './types.js';

export interface DiffRow {
  key: string;
  values: (Scalar | undefined)[];
  differs: boolean;
}

/** Rows of config keys across runs (union of keys, sorted); `differs` when any two values differ (missing counts). */
export function configDiff(configs: readonly Record<string, Scalar>[], onlyDifferences: boolean): DiffRow[] {
  const keys = new Set<string>();
  for (const c of configs) for (const k of Object.keys(c)) keys.add(k);
  const rows: DiffRow[] = [];
  for (const key of [...keys].sort()) {
    const values = configs.map((c) => (key in c ? c[key] : undefined));
    const first = JSON.stringify(values[0] ?? '\u0000missing');
    const differs = values.some((v) => JSON.stringify(v ?? '\u0000missing') !== first);
    if (differs || !onlyDifferences) rows.push({ key, values, differs });
  }
  return rows;
}

/** Config keys whose values are not all equal across the given configs. */
export function varyingKeys(configs: readonly Record<string, Scalar>[]): string[] {
  return configDiff(configs, true).map((r) => r.key);
}
