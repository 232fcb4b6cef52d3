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
 * A 95% interval as tables print it beside its figure: with the figure's decimal places, so
 * that `100.7 [91.5, 112.7]` (not `[91.474, 112.7]`) and `2.819 [2.710, 2.982]` line up. Without
 * a figure (or with 0, whose size says nothing) each bound is formatted on its own; beside an
 * integer figure, integer bounds print as integers.
 */
export function intervalText(low: number, high: number, figure?: number): string {
  if (figure === undefined || figure === 0 || !Number.isFinite(figure)) return `[${formatCell(low)}, ${formatCell(high)}]`;
  const decimals = decimalsFor(figure);
  // An integer figure prints as one (formatCell): integer bounds beside it do too.
  if ([figure, low, high].every(Number.isInteger)) return `[${low}, ${high}]`;
  return `[${withDecimals(low, decimals)}, ${withDecimals(high, decimals)}]`;
}

export function renderTable(headers: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => headers.map((_, i) => formatCell(r[i])));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
