import { formatNumber } from './flatten.js';
import type { PlainTable } from './table-export.js';
import type { RunRow } from './types.js';

/** One column of the paper tables: an `eval` key (see the runs README's eval contract). */
export interface PaperColumn {
  key: string;
  label: string;
  /** Shown value = eval value * scale (KV bytes -> KB). */
  scale: number;
}

/** The SentenceVAE-style table: each with % change vs the baseline. */
export const SVAE_COLUMNS: PaperColumn[] = [
  { key: 'params', label: 'Params', scale: 1 },
  { key: 'ppl', label: 'PPL', scale: 1 },
  { key: 'tokens_per_s', label: 'Tokens/s', scale: 1 },
  { key: 'kv_bytes_per_token', label: 'KV KB/token', scale: 1 / 1024 },
];

/** The Large Concept Model table. */
export const LCM_COLUMNS: PaperColumn[] = [
  { key: 'l2', label: 'L2', scale: 1 },
  { key: 'contrastive_acc', label: 'Contrastive acc.', scale: 1 },
  { key: 'roundtrip_l2', label: 'Round-trip L2', scale: 1 },
];

export function paperValue(row: RunRow, column: PaperColumn): number | undefined {
  const v = row.eval?.[column.key];
  return typeof v === 'number' && Number.isFinite(v) ? v * column.scale : undefined;
}

/** (value - base) / base in percent; undefined when either is missing or base is 0. */
export function percentChange(value: number | undefined, base: number | undefined): number | undefined {
  if (value === undefined || base === undefined || base === 0) return undefined;
  return ((value - base) / Math.abs(base)) * 100;
}

export function formatPercent(p: number | undefined): string {
  if (p === undefined) return '';
  const r = Math.round(p * 10) / 10;
  return `${r > 0 ? '+' : ''}${r.toFixed(1)}%`;
}

/** Baseline first, then candidates; with `withChange`, a "Δ" column after each value column. */
export function paperTable(baseline: RunRow, candidates: readonly RunRow[], columns: readonly PaperColumn[], withChange: boolean): PlainTable {
  const header = ['Run'];
  for (const c of columns) header.push(c.label, ...(withChange ? [`Δ ${c.label}`] : []));
  const rows = [baseline, ...candidates].map((run) => {
    const cells = [run === baseline ? `${run.id} (baseline)` : run.id];
    for (const c of columns) {
      const v = paperValue(run, c);
      cells.push(v === undefined ? '' : formatNumber(v));
      if (withChange) cells.push(run === baseline ? '' : formatPercent(percentChange(v, paperValue(baseline, c))));
    }
    return cells;
  });
  return { header, rows };
}
