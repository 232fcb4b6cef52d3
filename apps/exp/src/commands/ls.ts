/** `pnpm exp ls [experiment]`: runs with status and key metrics. */
import { Command } from 'commander';
import { EVAL_KEYS, listRuns, readMetrics, type RunInfoOk, type Summary } from '@sentencelab/runs';
import { renderTable, type Cell } from '../table.js';

/** The summary figures `ls` shows, in column order. */
export function keyMetrics(summary: Summary | undefined): { steps: Cell; loss: Cell; valLoss: Cell; ppl: Cell; params: Cell } {
  const m = summary?.metrics ?? {};
  const e = summary?.eval ?? {};
  const num = (v: unknown): Cell => (typeof v === 'number' ? v : undefined);
  return {
    steps: m['train/loss']?.lastStep,
    loss: m['train/loss']?.last,
    valLoss: m['val/loss']?.best,
    ppl: num(e[EVAL_KEYS.ppl]),
    params: num(e[EVAL_KEYS.params]),
  };
}

/** Key metrics of a run that has no summary yet (still training): read from metrics.arrow. */
async function liveMetrics(dir: string): Promise<ReturnType<typeof keyMetrics>> {
  const none = keyMetrics(undefined);
  try {
    const { series } = await readMetrics(dir, { names: ['train/loss', 'val/loss'] });
    const last = (name: string) => {
      const s = series[name];
      return s && s.step.length > 0 ? { step: s.step[s.step.length - 1]!, value: s.value[s.value.length - 1]! } : undefined;
    };
    return { ...none, steps: last('train/loss')?.step, loss: last('train/loss')?.value, valLoss: last('val/loss')?.value };
  } catch {
    return none;
  }
}

export function kindOf(r: RunInfoOk): string {
  const k = r.meta.backendInfo?.['kind'];
  return typeof k === 'string' ? k : '-';
}

export async function lsText(runsDir: string, experiment?: string): Promise<string> {
  const runs = (await listRuns(runsDir)).filter((r) => experiment === undefined || r.experiment === experiment);
  if (runs.length === 0) return `no runs in ${runsDir}${experiment ? ` for experiment ${experiment}` : ''}`;
  const rows: Cell[][] = await Promise.all(runs.map(async (r) => {
    if (!r.ok) return [r.id, 'unreadable', '-', undefined, undefined, undefined, undefined, undefined, r.error];
    const k = r.summary ? keyMetrics(r.summary) : await liveMetrics(r.dir);
    return [r.id, r.status, kindOf(r), k.steps, k.loss, k.valLoss, k.ppl, k.params, r.meta.startedAt.slice(0, 19).replace('T', ' ')];
  }));
  return renderTable(['run', 'status', 'kind', 'step', 'loss', 'val loss', 'ppl', 'params', 'started'], rows);
}

export function lsCommand(): Command {
  return new Command('ls')
    .description('list runs with their status and key metrics')
    .argument('[experiment]', 'only this experiment')
    .option('--runs-dir <dir>', 'runs folder', 'runs')
    .action(async (experiment: string | undefined, opts: { runsDir: string }) => {
      console.log(await lsText(opts.runsDir, experiment));
    });
}
