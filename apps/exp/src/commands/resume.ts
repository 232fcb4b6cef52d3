/** `pnpm exp resume <runDir>`: continue an interrupted, failed or crashed run from its latest checkpoint (a done run: nothing to do). */
import { join } from 'node:path';
import { Command } from 'commander';
import { readMeta, readOverrides } from '@sentencelab/runs';
import { loadPipeline } from '../config/pipeline.js';
import { executePipeline, readStageRecord } from '../pipeline/execute.js';
import { resolveRunDir } from '../runs-lookup.js';
import { interruptOnSigint } from '../signals.js';

/**
 * Re-runs the pipeline of the run's own config.yaml: upstream stages come from the cache, the
 * run's stage continues in the same folder from its latest checkpoint (metrics after it are
 * dropped, so none is duplicated), and the stages after it run as usual.
 */
export async function resumeAction(runDir: string, cacheDir: string): Promise<number> {
  const t0 = performance.now();
  if ((await readMeta(runDir)).status === 'done') {
    console.log(`${runDir}: the run is already done; nothing to resume`);
    return 0;
  }
  const { STAGES, stageRegistry } = await import('../stages/registry.js');
  const { startBackend } = await import('../backend.js');
  const record = readStageRecord(runDir);
  const { config } = loadPipeline(join(runDir, 'config.yaml'), STAGES);
  const overrides = await readOverrides(runDir);
  const sig = interruptOnSigint();
  try {
    const backend = await startBackend(config.backend, config.gpu);
    await executePipeline(config, stageRegistry(), {
      file: join(runDir, 'config.yaml'),
      overrides,
      label: record.label,
      cacheDir,
      resumeRunDir: runDir,
      signal: sig.signal,
      backend,
    });
  } finally {
    sig.dispose();
  }
  console.log(`elapsed: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return sig.signal.aborted ? sig.exitCode() : 0;
}

export function resumeCommand(): Command {
  return new Command('resume')
    .description('continue a run from its latest checkpoint (same subsequent losses as an uninterrupted run)')
    .argument('<run>', 'run folder, <experiment>/<runId>, or a unique part of a run id')
    .option('--runs-dir <dir>', 'runs folder', 'runs')
    .option('--cache-dir <dir>', 'stage artifact cache', '.cache/stages')
    .action(async (arg: string, opts: { runsDir: string; cacheDir: string }) => {
      process.exitCode = await resumeAction(await resolveRunDir(arg, opts.runsDir), opts.cacheDir);
    });
}
