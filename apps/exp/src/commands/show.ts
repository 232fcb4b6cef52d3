/** `pnpm exp show <run>`: everything about one run, readable. */
import { Command } from 'commander';
import { latestCheckpoint, metricHasBetterSide, readRun, readSamples, runDisplayStatus } from '@sentencelab/runs';
import { formatFlops, nativeKernelsOf, nativeKernelsText } from '@sentencelab/tensor';
import { stringify } from 'yaml';
import { resolveRunDir } from '../runs-lookup.js';
import { evalCells } from './eval-cells.js';
import { formatCell, printable, renderTable } from '../table.js';

export async function showText(dir: string, options: { config?: boolean } = {}): Promise<string> {
  const run = await readRun(dir);
  const m = run.meta;
  const out: string[] = [];
  out.push(`run        ${printable(`${m.experiment}/${m.runId}`)}`);
  out.push(`folder     ${printable(run.dir)}`);
  out.push(`status     ${runDisplayStatus(run.dir, m.status)}${m.error ? `: ${printable(m.error.message)}` : ''}`);
  out.push(`started    ${m.startedAt}${m.endedAt ? `, ended ${m.endedAt}` : ''}${m.resumedAt.length > 0 ? `, resumed ${m.resumedAt.length}x` : ''}`);
  if (m.forkedFrom) out.push(`trained by ${printable(m.forkedFrom.run)} (its step ${m.forkedFrom.step} checkpoint, metrics and cost; only evaluation options differ)`);
  const native = nativeKernelsOf(m.backendInfo?.['native']);
  out.push(`backend    ${printable(m.backend)}${native === undefined ? '' : ` (${nativeKernelsText(native)})`}, seed ${m.seed}`);
  out.push(`git        ${m.git.sha ?? 'none'}${m.git.dirty ? ' (dirty)' : ''}`);
  out.push(`machine    ${m.machine.cpu}, ${m.machine.cores} cores, ${m.machine.memoryGb} GB, ${m.machine.os}, node ${m.machine.node}`);
  const r = m.resources;
  const inherited = m.forkedFrom?.inherited;
  const carried = inherited ? ` (${formatCell(inherited.cpuUserS + inherited.cpuSystemS)} s of it the donor's, carried over)` : '';
  if (r) out.push(`cpu        ${formatCell(r.cpuUserS)} s user + ${formatCell(r.cpuSystemS)} s sys${carried}; load avg (1 min) ${formatCell(r.loadAvgStart[0])} at start${r.loadAvgEnd ? `, ${formatCell(r.loadAvgEnd[0])} at end` : ''}`);
  if (r?.trainingFlops !== undefined) out.push(`compute    ${formatFlops(r.trainingFlops)} in the training steps (matrix products, forward and backward)${m.forkedFrom ? ", the donor's" : ''}`);
  out.push(`overrides  ${run.overrides.length > 0 ? printable(run.overrides.join(' ')) : '(none)'}`);
  const ck = latestCheckpoint(run.dir);
  out.push(`checkpoint ${ck ? `${printable(ck.name)} (step ${ck.step})` : '(none)'}`);
  const metrics = Object.entries(run.summary?.metrics ?? {});
  if (metrics.length > 0) {
    // No "best" for a metric with no better side (learning rate, gradient norm, sys/...): '-'.
    const best = (k: string, v: number) => (metricHasBetterSide(k) ? v : undefined);
    out.push('', renderTable(['metric', 'last', 'min', 'max', 'best', 'best step', 'count'], metrics.map(([k, s]) => [k, s.last, s.min, s.max, best(k, s.best), best(k, s.bestStep), s.count])));
  }
  const evals = evalCells(run.summary?.eval ?? {});
  if (evals.length > 0) out.push('', renderTable(['eval', 'value'], evals));
  const samples = (await readSamples(run.dir)).slice(-3);
  for (const s of samples) out.push('', `sample @${s.step}${s.model ? ` (${printable(s.model)})` : ''}: ${printable(s.prompt)} -> ${printable(s.output)}`);
  if (options.config) out.push('', stringify(run.config).trimEnd());
  return out.join('\n');
}

export function showCommand(): Command {
  return new Command('show')
    .description('show one run: status, meta, metric summaries, eval results, samples')
    .argument('<run>', 'run folder, <experiment>/<runId>, or a unique part of a run id')
    .option('--runs-dir <dir>', 'runs folder', 'runs')
    .option('--config', 'also print the resolved config', false)
    .action(async (arg: string, opts: { runsDir: string; config: boolean }) => {
      console.log(await showText(await resolveRunDir(arg, opts.runsDir), { config: opts.config }));
    });
}
