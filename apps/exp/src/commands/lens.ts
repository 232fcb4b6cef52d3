/** `pnpm exp lens <run> --text "..."`: SentenceLens, every layer's state decoded at every sentence. */
import { Command } from 'commander';
import { resolveRunDir } from '../runs-lookup.js';
import type { AnyStage, LensView } from '../stages/types.js';
import { openRunModel } from './generate.js';
import { num } from './options.js';

export interface LensCliOptions {
  text: string;
  maxTokens: number;
  json?: boolean;
  width?: number;
  runsDir: string;
  cacheDir: string;
}

/** Loads the run's model (as `generate` does) and returns its lens over `text`. */
export async function lensAction(runDir: string, o: Pick<LensCliOptions, 'text' | 'maxTokens' | 'cacheDir'>): Promise<LensView> {
  const { stage, artifact } = await openRunModel(runDir, o.cacheDir, 'have a SentenceLens (sllm, lcm-mse and lcm-energy runs do)', (s): s is AnyStage & Required<Pick<AnyStage, 'lens'>> => s.lens !== undefined);
  return stage.lens(artifact, o.text, { maxTokens: o.maxTokens });
}

/**
 * The grid as terminal lines, `width` columns at most: a column per sentence position (the
 * sentence read there, the true next one), then per layer a row of decoded sentences and a row
 * of their scores; texts are cut to fit with an ellipsis.
 */
export function renderLens(view: LensView, width: number): string[] {
  const n = view.sentences.length;
  const layers = view.cells.length;
  const labels = ['position', 'read', 'true next', ...view.cells.map((_, l) => (l === layers - 1 ? `layer ${l + 1} (out)` : `layer ${l + 1}`))];
  const labelWidth = Math.max(...labels.map((s) => s.length));
  const cellWidth = Math.max(8, Math.floor((width - labelWidth) / n) - 3);
  const fit = (s: string): string => {
    const t = s.replace(/\s+/g, ' ').trim();
    return (t.length > cellWidth ? `${t.slice(0, cellWidth - 1)}…` : t).padEnd(cellWidth);
  };
  const row = (label: string, cells: string[]): string => `${label.padEnd(labelWidth)} | ${cells.map(fit).join(' | ')}`.trimEnd();
  const score = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
  const lines = [
    row('position', view.sentences.map((_, i) => String(i))),
    row('read', view.sentences),
    row('true next', view.targets.map((t) => t ?? '(none: the text ends)')),
    '-'.repeat(Math.min(width, labelWidth + n * (cellWidth + 3))),
  ];
  view.cells.forEach((cells, l) => {
    lines.push(row(labels[l + 3]!, cells.map((c) => c.text || '(empty)')));
    lines.push(row('', cells.map((c) => `cos ${score(c.cosine)} F1 ${score(c.f1)}`)));
  });
  if (view.droppedSentences > 0) lines.push(`(${view.droppedSentences} more sentences of the text do not fit in the model's window of ${n})`);
  return lines;
}

export function lensCommand(): Command {
  return new Command('lens')
    .description("SentenceLens: decode every layer's hidden state at every sentence position through the SentenceVAE decoder (sllm, lcm-mse and lcm-energy runs)")
    .argument('<run>', 'run folder, <experiment>/<runId>, or a unique part of a run id')
    .requiredOption('--text <text>', 'a document: its sentences are the positions read')
    .option('--max-tokens <n>', 'most tokens decoded per cell', num(1), 32)
    .option('--width <n>', 'terminal columns (default: the terminal, else 160)', num(40))
    .option('--json', 'print the grid as JSON instead')
    .option('--runs-dir <dir>', 'runs folder', 'runs')
    .option('--cache-dir <dir>', 'stage artifact cache', '.cache/stages')
    .action(async (arg: string, o: LensCliOptions) => {
      const dir = await resolveRunDir(arg, o.runsDir);
      const view = await lensAction(dir, o);
      if (o.json) console.log(JSON.stringify(view, null, 2));
      else for (const line of renderLens(view, o.width ?? process.stdout.columns ?? 160)) console.log(line);
    });
}
