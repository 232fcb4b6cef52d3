/** `pnpm exp generate <run> --prompt "..."`: stream text from a trained model. */
import { Command, Option } from 'commander';
import { readConfig, readMeta } from '@sentencelab/runs';
import { ArtifactCache } from '../pipeline/cache.js';
import { readStageRecord } from '../pipeline/execute.js';
import { resolveRunDir } from '../runs-lookup.js';
import { checkGenerateOptions } from '../stages/generate-options.js';
import type { AnyStage, Artifact, GenerateOptions } from '../stages/types.js';
import { num, positiveInt, positiveNumber } from './options.js';

export interface GenerateCliOptions extends GenerateOptions {
  prompt: string;
  runsDir: string;
  cacheDir: string;
}

/**
 * A trained run's stage and model artifact, with the run's backend started, for commands that
 * use the model (`generate`, `lens`); `has(stage)` says whether its kind can do `what`.
 */
export async function openRunModel<T extends AnyStage>(
  runDir: string,
  cacheDir: string,
  what: string,
  has: (stage: AnyStage) => stage is T,
): Promise<{ stage: T; artifact: Artifact }> {
  const { stageRegistry } = await import('../stages/registry.js');
  const { startBackend } = await import('../backend.js');
  const record = readStageRecord(runDir);
  const stage = stageRegistry().get(record.kind);
  if (!stage || !has(stage)) throw new Error(`${runDir}: a ${record.kind} stage does not ${what}`);
  const artifact = new ArtifactCache(cacheDir).get(record.hash);
  if (!artifact) {
    throw new Error(`${runDir}: its model artifact ${record.hash.slice(0, 12)} is not in ${cacheDir} (finish or resume the run first)`);
  }
  const meta = await readMeta(runDir);
  // The run's adapter choice (webgpu), from the config it saved.
  const gpu = ((await readConfig(runDir)) as { gpu?: Parameters<typeof startBackend>[1] } | null | undefined)?.gpu;
  await startBackend(meta.backend as Parameters<typeof startBackend>[0], gpu);
  return { stage, artifact };
}

/** Writes the prompt, then streams the continuation to `write` as it is produced; returns the continuation. */
export async function generateAction(runDir: string, o: GenerateCliOptions, write: (s: string) => void): Promise<string> {
  // Before the backend starts and the model loads: an option the run's model cannot use fails at once.
  checkGenerateOptions(readStageRecord(runDir).kind, o);
  const { stage, artifact } = await openRunModel(runDir, o.cacheDir, 'generate text', (s): s is AnyStage & Required<Pick<AnyStage, 'generate'>> => s.generate !== undefined);
  write(o.prompt);
  let text = '';
  for await (const chunk of stage.generate(artifact, o.prompt, o)) {
    text += chunk;
    write(chunk);
  }
  return text;
}

export function generateCommand(): Command {
  return new Command('generate')
    .description('stream a continuation of a prompt from a trained model (token LM, SLLM, concept heads)')
    .argument('<run>', 'run folder, <experiment>/<runId>, or a unique part of a run id')
    .requiredOption('--prompt <text>', 'text to continue')
    .option('--max-sentences <n>', 'most sentences to generate', num(1), 3)
    .option('--max-tokens <n>', 'most tokens per sentence', num(1), 64)
    .option('--temperature <t>', '0 = greedy', num(0), 0)
    .option('--top-p <p>', 'nucleus sampling mass', num(0), 1)
    .option('--seed <n>', 'sampling seed', num(0), 0)
    .addOption(new Option('--feedback <what>', 'concept heads: what goes back into the context, the predicted vector or its decoded text re-encoded (default vector)').choices(['vector', 'reencode']))
    .option('--guidance <scale>', "diffusion heads: classifier-free guidance scale (1 = conditional only; default the run's config)", num(0))
    .option('--initial-noise <scale>', "diffusion heads: x_T = scale * N(0, I) (default the run's sampling.initialNoiseScale)", positiveNumber)
    .option('--sampling-steps <n>', "diffusion heads: DDIM steps (default the run's sampling.steps)", positiveInt)
    .option('--eta <e>', "diffusion heads: DDIM eta, 0 = deterministic (default the run's sampling.eta)", num(0))
    .option('--runs-dir <dir>', 'runs folder', 'runs')
    .option('--cache-dir <dir>', 'stage artifact cache', '.cache/stages')
    .action(async (arg: string, o: GenerateCliOptions) => {
      const dir = await resolveRunDir(arg, o.runsDir);
      await generateAction(dir, o, (s) => process.stdout.write(s));
      process.stdout.write('\n');
    });
}
