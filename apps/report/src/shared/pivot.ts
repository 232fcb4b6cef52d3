import { compareScalars, fieldValue } from './fields.js';
import { formatValue, formatNumber } from './flatten.js';
import type { PlainTable } from './table-export.js';
import type { RunRow, Scalar } from './types.js';

export interface PivotSpec {
  /** Field whose values become rows. */
  rows: string;
  /** Field whose values become columns. */
  cols: string;
  /** Numeric field shown in the cells (mean over the runs that fall in a cell). */
  cell: string;
}

export interface Pivot {
  rowValues: (Scalar | undefined)[];
  colValues: (Scalar | undefined)[];
  /** cells[r][c]: mean of the cell field, or undefined when no run has a value. */
  cells: (number | undefined)[][];
  /** counts[r][c]: runs that contributed to the cell. */
  counts: number[][];
  /**
   * stages[r][c]: the pipeline stages (`info.stage`) of the runs that contributed, where they
   * are more than one: such a mean averages different models (a token LM with an SLLM, two
   * concept heads), which the cell must say. Empty where the runs share a stage or record none.
   */
  stages: string[][][];
}

export function pivot(rows: readonly RunRow[], spec: PivotSpec): Pivot {
  const rowValues = distinct(rows.map((r) => fieldValue(r, spec.rows)));
  const colValues = distinct(rows.map((r) => fieldValue(r, spec.cols)));
  const key = (v: Scalar | undefined) => JSON.stringify(v ?? null);
  const rIndex = new Map(rowValues.map((v, i) => [key(v), i]));
  const cIndex = new Map(colValues.map((v, i) => [key(v), i]));
  const sums = rowValues.map(() => colValues.map(() => 0));
  const counts = rowValues.map(() => colValues.map(() => 0));
  const stageSets = rowValues.map(() => colValues.map(() => new Set<string>()));
  for (const row of rows) {
    const value = fieldValue(row, spec.cell);
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const r = rIndex.get(key(fieldValue(row, spec.rows)))!;
    const c = cIndex.get(key(fieldValue(row, spec.cols)))!;
    sums[r]![c]! += value;
    counts[r]![c]!++;
    const stage = fieldValue(row, 'info.stage');
    if (typeof stage === 'string') stageSets[r]![c]!.add(stage);
  }
  const cells = sums.map((line, r) => line.map((s, c) => (counts[r]![c]! > 0 ? s / counts[r]![c]! : undefined)));
  const stages = stageSets.map((line) => line.map((set) => (set.size > 1 ? [...set].sort() : [])));
  return { rowValues, colValues, cells, counts, stages };
}

function distinct(values: (Scalar | undefined)[]): (Scalar | undefined)[] {
  const seen = new Map<string, Scalar | undefined>();
  for (const v of values) seen.set(JSON.stringify(v ?? null), v);
  return [...seen.values()].sort(compareScalars);
}

/** Whether some cell of `p` averages runs of different stages (its `stages` names them). */
export function mixesStages(p: Pivot): boolean {
  return p.stages.some((line) => line.some((stages) => stages.length > 0));
}

/**
 * The pivot as a plain table: first header cell `rows \\ cols`, cells formatted, `n=k` appended
 * when k > 1, and the stages a cell's mean mixes named in it (`41 (n=2, mixes sllm, token-lm)`),
 * with a caption that says how to split them.
 */
export function pivotTable(p: Pivot, spec: PivotSpec): PlainTable {
  return {
    caption: `${spec.cell} by ${spec.rows} (rows) and ${spec.cols} (columns); mean over runs${mixesStages(p) ? '; a cell marked "mixes" averages runs of different stages (different models): put info.stage on the rows or columns, or select fewer runs' : ''}`,
    header: [`${spec.rows} \\ ${spec.cols}`, ...p.colValues.map((v) => formatValue(v ?? null) || '(none)')],
    rows: p.rowValues.map((rv, r) => [
      formatValue(rv ?? null) || '(none)',
      ...p.cells[r]!.map((cell, c) => {
        if (cell === undefined) return '';
        const n = p.counts[r]![c]!;
        const stages = p.stages[r]![c]!;
        const notes = [...(n > 1 ? [`n=${n}`] : []), ...(stages.length > 0 ? [`mixes ${stages.join(', ')}`] : [])];
        return notes.length > 0 ? `${formatNumber(cell)} (${notes.join(', ')})` : formatNumber(cell);
      }),
    ]),
  };
}
