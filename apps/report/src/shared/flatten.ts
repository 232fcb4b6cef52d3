import type { Scalar } from './types.js';

/** `{a: {b: 1}, c: [1, 2]}` -> `{'a.b': 1, c: '[1,2]'}`; empty objects become `'{}'`. */
export function flatten(value: unknown, prefix = '', out: Record<string, Scalar> = {}): Record<string, Scalar> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = '{}';
    for (const [key, child] of entries) flatten(child, prefix ? `${prefix}.${key}` : key, out);
    return out;
  }
  if (!prefix) return out;
  if (Array.isArray(value)) out[prefix] = JSON.stringify(value);
  else if (value === undefined) out[prefix] = null;
  else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) out[prefix] = value;
  else out[prefix] = String(value);
  return out;
}

/**
 * A figure with its 95% interval, `52.1 [47.46, 57.02]`: each number as {@link formatNumber}
 * writes it (the figure's own digits would round a bound of `2.5 [2.47, 2.53]` to `2.5`).
 */
export function formatWithInterval(figure: number, low: number, high: number): string {
  return `${formatNumber(figure)} [${formatNumber(low)}, ${formatNumber(high)}]`;
}

/** A figure with the range of its repeated measurements, `2100 (1900-2300)` (the bench's tok/s passes). */
export function formatWithRange(figure: number, low: number, high: number): string {
  return `${formatNumber(figure)} (${formatNumber(low)}-${formatNumber(high)})`;
}

/** A figure with its stored spread (runs' `storedSpread`): its interval in brackets, its range in parentheses. */
export function formatWithSpread(figure: number, spread: { kind: 'interval' | 'range'; low: number; high: number }): string {
  return (spread.kind === 'interval' ? formatWithInterval : formatWithRange)(figure, spread.low, spread.high);
}

/** Display form of a cell value: numbers with up to 4 significant decimals, null as an empty cell. */
export function formatValue(value: Scalar | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return formatNumber(value);
  return String(value);
}

export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return Math.abs(x) >= 1e7 ? x.toExponential(3) : String(x);
  const abs = Math.abs(x);
  if (abs >= 1e6 || abs < 1e-3) return x.toExponential(3);
  return String(Number(x.toPrecision(5)));
}

/** Short axis labels: 1200000 -> 1.2M, 2500 -> 2.5k. */
export function formatCompact(x: number): string {
  const abs = Math.abs(x);
  if (abs >= 1e9) return `${Number((x / 1e9).toPrecision(3))}G`;
  if (abs >= 1e6) return `${Number((x / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((x / 1e3).toPrecision(3))}k`;
  return formatNumber(x);
}
