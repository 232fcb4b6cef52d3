import { describe, expect, it } from 'vitest';
import { latexEscape, toCsv, toLatex, toMarkdown } from './table-export.js';

const table = { header: ['run', 'ppl'], rows: [['a|b', '45.3'], ['c, "d"', '']] };

describe('table export', () => {
  it('writes Markdown with escaped pipes and right-aligned numbers', () => {
    expect(toMarkdown(table)).toBe('| run | ppl |\n|---|---:|\n| a\\|b | 45.3 |\n| c, "d" |  |\n');
  });

  it('writes RFC 4180 CSV', () => {
    expect(toCsv(table)).toBe('run,ppl\r\na|b,45.3\r\n"c, ""d""",\r\n');
  });

  it('writes a booktabs tabular with LaTeX specials escaped', () => {
    expect(latexEscape('50% of $x_1 & {y} #2 ~ ^ \\')).toBe(
      '50\\% of \\$x\\_1 \\& \\{y\\} \\#2 \\textasciitilde{} \\textasciicircum{} \\textbackslash{}',
    );
    expect(toLatex({ header: ['run', 'ppl'], rows: [['sllm_h1', '48.7']] })).toBe(
      '\\begin{tabular}{lr}\n\\toprule\nrun & ppl \\\\\n\\midrule\nsllm\\_h1 & 48.7 \\\\\n\\bottomrule\n\\end{tabular}\n',
    );
  });
});
