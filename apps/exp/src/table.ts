/** Aligned text tables for the terminal (numbers right-aligned, compact number formatting). */

export type Cell = string | number | null | undefined;

/**
 * Text from run folders (folder names, error messages, samples) made safe to print: control
 * characters (terminal escape sequences, newlines, carriage returns) become visible escapes
 * such as `\x1b`, so a crafted folder name cannot move the cursor, retitle the terminal or fake lines.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The decimal places a non-integer of this size is printed with; `undefined`: in exponent notation (below 1e-3). */
function decimalsFor(x: number): number | undefined {
  const a = Math.abs(x);
  if (a >= 1000) return 0;
  if (a >= 100) return 1;
  if (a >= 1) return 3;
  if (a >= 1e-3) return 4;
  return undefined;
}

const withDecimals = (x: number, decimals: number | undefined) => (decimals === undefined ? x.toExponential(2) : x.toFixed(decimals));

export function formatCell(c: Cell): string {
  if (c === null || c === undefined) return '-';
  if (typeof c === 'string') return printable(c);
  if (!Number.isFinite(c)) return String(c);
  if (Number.isInteger(c)) return String(c);
  return withDecimals(c, decimalsFor(c));
}

/**
 * A figure and its bounds formatted alike, so that they line up: integers when all three are,
 * else all with the decimal places {@link formatCell} gives the figure's size (`100.7`, `91.5`,
 * `112.7`; not `91.474`). A figure of 0, whose size says nothing, leaves each to formatCell.
 */
function alike(figure: number, low: number, high: number): [string, string, string] {
  if ([figure, low, high].every(Number.isInteger)) return [String(figure), String(low), String(high)];
  if (figure === 0 || !Number.isFinite(figure)) return [formatCell(figure), formatCell(low), formatCell(high)];
  const decimals = decimalsFor(figure);
  return [withDecimals(figure, decimals), withDecimals(low, decimals), withDecimals(high, decimals)];
}

/** A figure with its 95% interval: `100.7 [91.5, 112.7]`. */
export function figureWithInterval(figure: number, low: number, high: number): string {
  const [f, l, h] = alike(figure, low, high);
  return `${f} [${l}, ${h}]`;
}

/** A figure with the range it came from: `1235 (956-1543)` (the bench's median tok/s of its passes). */
export function figureWithRange(figure: number, low: number, high: number): string {
  const [f, l, h] = alike(figure, low, high);
  return `${f} (${l}-${h})`;
}

/** A figure with its stored spread (runs' `storedSpread`): its interval in brackets, its range in parentheses. */
export function figureWithSpread(figure: number, spread: { kind: 'interval' | 'range'; low: number; high: number }): string {
  return (spread.kind === 'interval' ? figureWithInterval : figureWithRange)(figure, spread.low, spread.high);
}

/** A 95% interval alone, `[91.5, 112.7]`: formatted like its figure where given (printed elsewhere), else each bound on its own. */
export function intervalText(low: number, high: number, figure?: number): string {
  const [, l, h] = figure === undefined ? ['', formatCell(low), formatCell(high)] : alike(figure, low, high);
  return `[${l}, ${h}]`;
}

export function renderTable(headers: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => headers.map((_, i) => formatCell(r[i])));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** A Markdown table of ready-made cells (a `|` inside a cell is escaped). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
