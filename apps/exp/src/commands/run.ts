/**
 * `pnpm exp run <config.yaml> [a.b=value ...]`: validate every sweep point, then run each
 * point's pipeline (in this process, or `--parallel N` child processes).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import { loadPipeline } from '../config/pipeline.js';
import { expandSweeps, folderSafe, type SweepPoint } from '../config/sweep.js';
import { executePipeline, type StageReport } from '../pipeline/execute.js';
import { planPipeline } from '../pipeline/plan.js';
import { interruptOnSigint } from '../signals.js';
import type { AnyStage, PipelineConfig } from '../stages/types.js';
import { renderTable } from '../table.js';
import { positiveInt } from './options.js';

export interface RunOptions {
  dryRun: boolean;
  parallel: number;
  runsDir?: string;
  cacheDir: string;
  /** Internal: the sweep label of a child process's point. */
  label?: string;
  /** Enqueue the points on this Redis queue (workers run them) instead of running them here. */
  queue?: string;
  /** Queue: tries per point (deterministic errors fail at once). */
  attempts?: number;
  /** Queue: first retry delay in ms, doubled each retry. */
  backoffMs?: number;
  /** Queue: print the sweep id and return instead of following its progress. */
  detach?: boolean;
}

interface ValidPoint extends SweepPoint {
  config: PipelineConfig;
}

/** Loads and validates every sweep point (config schema and stage inputs) before any work. */
export function validatePoints(file: string, overrides: string[], runsDir: string | undefined, registry: ReadonlyMap<string, AnyStage>): ValidPoint[] {
  const stages = [...registry.values()];
  return expandSweeps(overrides).map((point) => {
    const { config } = loadPipeline(file, stages, point.overrides);
    if (runsDir !== undefined) config.runsDir = runsDir;
    planPipeline(config, registry, resolve(file));
    return { ...point, config };
  });
}

function stageTable(reports: StageReport[]): string {
  return renderTable(
    ['stage', 'kind', 'status', 'seconds', 'run folder / artifact'],
    reports.map((r) => [r.name, r.kind, r.reused ? 'reused' : 'ran', r.reused ? '-' : r.seconds.toFixed(1), r.artifact.runDir ?? r.artifact.dir]),
  );
}

/** Runs one validated point in this process; returns the exit code. */
async function runPoint(file: string, point: ValidPoint, cacheDir: string, registry: ReadonlyMap<string, AnyStage>): Promise<number> {
  const sig = interruptOnSigint();
  try {
    const { startBackend } = await import('../backend.js');
    const backend = await startBackend(point.config.backend, point.config.gpu);
    // Before hours of training: are the compared token predictors matched in size and objective?
    const { matchingReport, plannedBaseline, plannedProfiles } = await import('../stages/matching.js');
    const matching = matchingReport(plannedProfiles(point.config), plannedBaseline(point.config));
    for (const line of [...matching.lines, ...matching.warnings]) console.log(line);
    const reports = await executePipeline(point.config, registry, {
      file: resolve(file),
      overrides: point.overrides,
      label: point.label,
      cacheDir,
      signal: sig.signal,
      backend,
    });
    console.log(stageTable(reports));
    for (const r of reports) {
      const table = r.artifact.meta['table'];
      if (typeof table === 'string') console.log(`\n${r.name}: ${table}`);
    }
    return sig.signal.aborted ? sig.exitCode() : 0;
  } finally {
    sig.dispose();
  }
}

/** Runs the points as child processes, at most `parallel` at a time; returns the worst exit code. */
async function runChildren(file: string, points: ValidPoint[], options: RunOptions): Promise<number> {
  const script = process.argv[1]!;
  let next = 0;
  let worst = 0;
  const worker = async (): Promise<void> => {
    while (next < points.length) {
      const p = points[next++]!;
      const args = [...process.execArgv, script, 'run', file, ...p.overrides, '--cache-dir', options.cacheDir, '--label', p.label];
      if (options.runsDir !== undefined) args.push('--runs-dir', options.runsDir);
      const code = await new Promise<number>((done) => {
        const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        const prefix = (chunk: Buffer, out: NodeJS.WriteStream) => {
          for (const line of chunk.toString().split('\n')) if (line.length > 0) out.write(`[${p.label}] ${line}\n`);
        };
        child.stdout.on('data', (c: Buffer) => prefix(c, process.stdout));
        child.stderr.on('data', (c: Buffer) => prefix(c, process.stderr));
        child.on('close', (c, signal) => done(c ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1)));
      });
      console.error(`[${p.label}] exited with code ${code}`);
      worst = Math.max(worst, code);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.parallel, points.length) }, worker));
  return worst;
}

export async function runCommandAction(file: string, overrides: string[], options: RunOptions): Promise<number> {
  const t0 = performance.now();
  // The stage adapters pull in tfjs and every model package: loaded only by the commands that run them.
  const { stageRegistry } = await import('../stages/registry.js');
  const registry = stageRegistry();
  const points = validatePoints(file, overrides, options.runsDir, registry);
  if (options.queue !== undefined) {
    const { enqueueAction } = await import('./enqueue.js');
    return enqueueAction(resolve(file), points, { ...options, queue: options.queue }, registry);
  }
  if (options.label !== undefined) for (const p of points) p.label = options.label;
  if (options.dryRun) {
    for (const p of points) {
      const plan = planPipeline(p.config, registry, resolve(file));
      console.log(`# point ${p.label || '(no sweep)'}: ${p.overrides.join(' ') || '(no overrides)'}`);
      console.log(`# stages in order: ${plan.map((s) => s.name).join(' -> ')}`);
      // What the config below does not say on its own: a FLOP budget replaces train.steps at run time.
      for (const s of plan) {
        for (const [slot, spec] of Object.entries(s.stage.inputs)) {
          if (spec.recordOnly && s.inputs[slot] !== undefined) console.log(`# ${s.name}.inputs.${slot} = ${String(s.inputs[slot])}: ${spec.description}`);
        }
      }
      console.log(stringify(p.config));
    }
    return 0;
  }
  if (points.length > 1) console.error(`sweep: ${points.length} points (${points.map((p) => p.label).join(' | ')})`);
  let code = 0;
  if (points.length > 1 && options.parallel > 1) {
    code = await runChildren(file, points, options);
  } else {
    for (const p of points) {
      code = Math.max(code, await runPoint(file, p, options.cacheDir, registry));
      if (code === 130 || code === 143) break;
    }
  }
  console.log(`elapsed: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return code;
}

export function runCommand(): Command {
  return new Command('run')
    .description('validate a config, then run its pipeline (sweeps: a.b=1,2,3 runs one point per value, cross product)')
    .argument('<config>', 'pipeline config (YAML)')
    .argument('[overrides...]', 'key.path=value overrides; key.path=v1,v2 sweeps')
    .option('--dry-run', 'print the resolved config of every point and the stage order, run nothing', false)
    .option('--parallel <n>', 'run sweep points as this many separate processes', positiveInt, 1)
    .option('--runs-dir <dir>', 'runs folder (overrides runsDir in the config)')
    .option('--cache-dir <dir>', 'stage artifact cache', '.cache/stages')
    .option('--queue <url>', 'enqueue the points on this Redis queue for `pnpm exp worker`s (redis://[:password@]host:port)')
    .option('--attempts <n>', 'with --queue: tries per point; deterministic errors (config, data, NaN loss) fail at once', positiveInt, 3)
    .option('--backoff-ms <ms>', 'with --queue: first retry delay, doubled on each retry', positiveInt, 5000)
    .option('--detach', 'with --queue: print the sweep id and return instead of following progress', false)
    .addOption(new Option('--label <label>', 'internal: sweep point label of a child process').hideHelp())
    .action(async (file: string, overrides: string[], opts: RunOptions) => {
      const label = opts.label === undefined ? undefined : folderSafe(opts.label);
      process.exitCode = await runCommandAction(file, overrides, { ...opts, ...(label !== undefined ? { label } : {}) });
    });
}
