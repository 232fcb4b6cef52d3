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

export function formatCell(c: Cell): string {
  if (c === null || c === undefined) return '-';
  if (typeof c === 'string') return printable(c);
  if (!Number.isFinite(c)) return String(c);
  if (Number.isInteger(c)) return String(c);
  const a = Math.abs(c);
  if (a >= 1000) return c.toFixed(0);
  if (a >= 100) return c.toFixed(1);
  if (a >= 1) return c.toFixed(3);
  if (a >= 1e-3) return c.toFixed(4);
  return c.toExponential(2);
}

/** A 95% interval as tables print it beside its figure: `[91.474, 112.7]`. */
export function intervalText(low: number, high: number): string {
  return `[${formatCell(low)}, ${formatCell(high)}]`;
}

export function renderTable(headers: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => headers.map((_, i) => formatCell(r[i])));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
