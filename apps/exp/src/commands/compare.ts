/** `pnpm exp compare <run...>`: config differences only, what the runs were made under where it differs, then summary metrics side by side. */
import { Command } from 'commander';
import { metricHasBetterSide, readRun, type RunData } from '@sentencelab/runs';
import { nativeKernelsOf } from '@sentencelab/tensor';
import { canonicalJson } from '../stages/hash.js';
import { isPlainObject } from '../config/merge.js';
import { resolveRunDir } from '../runs-lookup.js';
import { evalCells } from './eval-cells.js';
import { renderTable, type Cell } from '../table.js';

/** `{a: {b: 1}}` -> `{ 'a.b': 1 }`; lists are leaves. */
export function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = value;
  }
  return out;
}

/** Key paths whose values differ between the configs (a key missing in some counts as different). */
export function configDiff(configs: unknown[]): { key: string; values: unknown[] }[] {
  const flat = configs.map((c) => flatten(c));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  return keys
    .map((key) => ({ key, values: flat.map((f) => f[key]) }))
    .filter((d) => new Set(d.values.map((v) => (v === undefined ? '\u0000undefined' : canonicalJson(v)))).size > 1);
}

function show(v: unknown): Cell {
  if (v === undefined) return '(absent)';
  if (typeof v === 'number' || typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function compareText(runs: RunData[]): string {
  const labels = runs.map((r) => r.meta.runId);
  const out: string[] = [];
  const diff = configDiff(runs.map((r) => r.config));
  out.push(
    diff.length === 0
      ? 'config: identical'
      : renderTable(['config (differences only)', ...labels], diff.map((d) => [d.key, ...d.values.map(show)])),
  );
  const made = madeUnderText(runs, labels);
  if (made) out.push('', made);
  const info = (r: RunData, key: string): Cell => {
    const v = r.meta.backendInfo?.[key];
    return typeof v === 'string' ? v : undefined;
  };
  // Runs of one pipeline share its config.yaml; the stage and kind tell them apart.
  const rows: Cell[][] = [
    ['stage', ...runs.map((r) => info(r, 'stage'))],
    ['kind', ...runs.map((r) => info(r, 'kind'))],
    ['status', ...runs.map((r) => r.meta.status)],
  ];
  const evals = runs.map((r) => new Map(evalCells(r.summary?.eval ?? {})));
  const evalKeys = [...new Set(evals.flatMap((e) => [...e.keys()]))].sort();
  for (const k of evalKeys) rows.push([k, ...evals.map((e) => e.get(k))]);
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.summary?.metrics ?? {})))].sort();
  for (const k of metricKeys) {
    rows.push([`${k} (last)`, ...runs.map((r) => r.summary?.metrics[k]?.last)]);
    if (metricHasBetterSide(k)) rows.push([`${k} (best)`, ...runs.map((r) => r.summary?.metrics[k]?.best)]);
  }
  out.push('', renderTable(['summary', ...labels], rows));
  return out.join('\n');
}

/** A run's commit as `0123456789ab`, `(dirty)` when tracked files had uncommitted changes. */
export function commitLabel(git: RunData['meta']['git']): string {
  return git.sha === null ? '(no git checkout)' : `${git.sha.slice(0, 12)}${git.dirty ? ' (dirty)' : ''}`;
}

/** What runs from different commits means for their figures (exp compare, exp results). */
export const SEVERAL_COMMITS_NOTE = 'a change to the numerics (even a summation order) moves a trained model\'s figures by as much as another seed can (docs/results/README.md)';

/**
 * The native backend's kernels a run was made with, as they decide its figures' last digits:
 * `avx512`, `avx2 + OpenBLAS GEMM`; undefined for another backend or a run from before they were
 * recorded. The thread count is left out: it changes speed, not results.
 */
export function kernelsLabel(meta: Pick<RunData['meta'], 'backendInfo'>): string | undefined {
  const n = nativeKernelsOf(meta.backendInfo?.['native']);
  return n === undefined ? undefined : `${n.simd}${n.blas === 'openblas' ? ' + OpenBLAS GEMM' : ''}`;
}

/** What runs with different native kernels means for their figures (exp compare, exp results). */
export const SEVERAL_KERNELS_NOTE =
  'different native kernels (SIMD width, GEMM): their products sum in different orders, so trained figures differ beyond the last digits, as between backends';

/**
 * What the runs were made under, outside their configs, where it differs: the backend that
 * ran them, its native kernels, the commit, the machine; with what each difference means for
 * the figures below. '' when the runs share them all.
 */
export function madeUnderText(runs: readonly RunData[], labels: readonly string[]): string {
  const machine = (r: RunData) => `${r.meta.machine.cpu}, ${r.meta.machine.cores} cores`;
  const row = (key: string, values: (string | undefined)[], note: string) => ({ key, cells: values.map((v) => v ?? '-'), note, differs: new Set(values.filter((v) => v !== undefined)).size > 1 });
  const rows = [
    row('backend', runs.map((r) => r.meta.backend), 'different backends: their kernels sum in different orders, so trained figures differ beyond the last digits'),
    // Only where two runs recorded different kernels: a run from before they were recorded says nothing.
    row('native kernels', runs.map((r) => kernelsLabel(r.meta)), SEVERAL_KERNELS_NOTE),
    row('git', runs.map((r) => commitLabel(r.meta.git)), `different commits: ${SEVERAL_COMMITS_NOTE}`),
    row('machine', runs.map(machine), 'different machines: speeds and times are not comparable'),
  ].filter((r) => r.differs);
  if (rows.length === 0) return '';
  return [renderTable(['made under (differences only)', ...labels], rows.map((row) => [row.key, ...row.cells])), ...rows.map((row) => `- ${row.note}`)].join('\n');
}

export function compareCommand(): Command {
  return new Command('compare')
    .description('compare runs: config differences only, then summary metrics and eval results')
    .argument('<runs...>', 'two or more runs (folders, <experiment>/<runId>, or unique parts of run ids)')
    .option('--runs-dir <dir>', 'runs folder', 'runs')
    .action(async (args: string[], opts: { runsDir: string }) => {
      if (args.length < 2) throw new Error('compare needs at least two runs');
      const runs = await Promise.all(args.map(async (a) => readRun(await resolveRunDir(a, opts.runsDir))));
      console.log(compareText(runs));
    });
}
