/** A plain table (header + rows of display strings) exported as Markdown, CSV or LaTeX. */
export interface PlainTable {
  header: string[];
  rows: string[][];
  caption?: string;
}

export type ExportFormat = 'markdown' | 'csv' | 'latex';

export function exportTable(table: PlainTable, format: ExportFormat): string {
  if (format === 'markdown') return toMarkdown(table);
  if (format === 'csv') return toCsv(table);
  return toLatex(table);
}

function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function toMarkdown(t: PlainTable): string {
  const isNum = numericColumns(t);
  const lines = [
    `| ${t.header.map(mdCell).join(' | ')} |`,
    `|${t.header.map((_, i) => (isNum[i] ? '---:' : '---')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
  ];
  return lines.join('\n') + '\n';
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with CRLF line ends. */
export function toCsv(t: PlainTable): string {
  return [t.header, ...t.rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

const LATEX_SPECIAL: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
};

export function latexEscape(s: string): string {
  return s.replace(/[\\&%$#_{}~^]/g, (c) => LATEX_SPECIAL[c]!);
}

/** A booktabs tabular (needs \usepackage{booktabs}). */
export function toLatex(t: PlainTable): string {
  const isNum = numericColumns(t);
  const lines = [
    `\\begin{tabular}{${isNum.map((n) => (n ? 'r' : 'l')).join('')}}`,
    '\\toprule',
    `${t.header.map(latexEscape).join(' & ')} \\\\`,
    '\\midrule',
    ...t.rows.map((r) => `${r.map(latexEscape).join(' & ')} \\\\`),
    '\\bottomrule',
    '\\end{tabular}',
  ];
  if (t.caption) return `% ${t.caption.replace(/\n/g, ' ')}\n${lines.join('\n')}\n`;
  return lines.join('\n') + '\n';
}

/** Columns (after the first) whose non-empty cells all parse as numbers, optionally with a % sign. */
function numericColumns(t: PlainTable): boolean[] {
  return t.header.map((_, i) => {
    if (i === 0) return false;
    const cells = t.rows.map((r) => r[i] ?? '').filter((c) => c !== '');
    return cells.length > 0 && cells.every((c) => /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?%?$/i.test(c));
  });
}
