import { mkdirSync } from 'node:fs';
import { writeJsonAtomic } from '@sentencelab/fs-atomic';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

/** One measured figure: `system` is what was measured, `metric` is snake_case with its unit. */
export interface BenchFigure {
  system: string;
  metric: string;
  value: number;
}

/** The benchmark output contract (see the design doc, "Benchmark output contract"). */
export interface BenchResult {
  bench: string;
  machine: { cpu: string; cores: number; memory_gb: number };
  config: Record<string, unknown>;
  results: BenchFigure[];
}

export interface BenchModule {
  /** What `pnpm bench <name> --help` prints: the command line and every option with its default. */
  usage: string;
  run(args: string[]): Promise<BenchResult>;
}

export function machineInfo(): BenchResult['machine'] {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memory_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

/** Where results go: `bench-results/` at the workspace root (or `SENTENCELAB_BENCH_DIR`). */
export function benchResultsDir(): string {
  return resolve(process.env.SENTENCELAB_BENCH_DIR ?? join(process.env.INIT_CWD ?? process.cwd(), 'bench-results'));
}

/** Writes `bench-results/<bench>.json` atomically and returns its path. */
export function writeBenchResult(result: BenchResult): string {
  const dir = benchResultsDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${result.bench}.json`);
  writeJsonAtomic(file, result);
  return file;
}

/** Prints rows as an aligned text table (numbers right-aligned). */
export function printTable(headers: string[], rows: (string | number)[][], options: { right?: readonly number[] } = {}): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[], numeric: boolean[]) =>
    r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  // Right-aligned: all-number columns, and `right`'s (numbers formatted by the caller, `-` among them).
  const numericCols = headers.map((_, i) => options.right?.includes(i) === true || (rows.length > 0 && rows.every((r) => typeof r[i] === 'number')));
  console.log(line(headers, numericCols));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells) console.log(line(r, numericCols));
}

export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  if (xs.length === 0) throw new Error('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
