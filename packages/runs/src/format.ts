import { z } from 'zod';

/**
 * The run-folder format version written into meta.json and summary.json. Readers accept
 * exactly this version; anything else is reported as "older/newer format" instead of being
 * half-understood.
 */
export const formatVersion = 1;

/** File names inside a run folder (`runs/<experiment>/<run-id>/`). */
export const RUN_FILES = {
  config: 'config.yaml',
  overrides: 'overrides.txt',
  meta: 'meta.json',
  metrics: 'metrics.arrow',
  summary: 'summary.json',
  checkpoints: 'checkpoints',
  latest: 'latest',
  samples: 'samples.jsonl',
  embeddings: 'embeddings.json',
  log: 'log.txt',
} as const;

export const runStatusSchema = z.enum(['running', 'done', 'failed', 'interrupted']);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const gitInfoSchema = z.object({
  sha: z.string().nullable().describe('HEAD commit, null outside a git checkout'),
  dirty: z.boolean().describe('uncommitted changes to tracked files'),
});
export type GitInfo = z.infer<typeof gitInfoSchema>;

export const machineInfoSchema = z.object({
  cpu: z.string(),
  cores: z.number().int().positive(),
  memoryGb: z.number().nonnegative(),
  os: z.string(),
  node: z.string(),
});
export type MachineInfo = z.infer<typeof machineInfoSchema>;

export const runErrorSchema = z.object({
  message: z.string(),
  stack: z.string().optional(),
});
export type RunError = z.infer<typeof runErrorSchema>;

export const runResourcesSchema = z.object({
  cpuUserS: z.number().nonnegative().describe('user CPU seconds of the writing process (all its threads) while the run was open, summed over its resumes'),
  cpuSystemS: z.number().nonnegative().describe('system CPU seconds, likewise'),
  loadAvgStart: z.array(z.number()).length(3).describe('os.loadavg() [1, 5, 15 min] when the run started (a resume keeps the first)'),
  loadAvgEnd: z.array(z.number()).length(3).optional().describe('os.loadavg() when the run last stopped (done, failed or interrupted)'),
  trainingFlops: z
    .number()
    .nonnegative()
    .optional()
    .describe('matrix-product FLOPs of the training steps, forward and backward (tensor\'s FlopCounter), as an uninterrupted run counts them; set when training ends, absent before and in runs from before they were counted'),
});
export type RunResources = z.infer<typeof runResourcesSchema>;

/** CPU seconds, user + system, of recorded resources (undefined when the run has none). */
export function cpuSecondsOf(resources: RunResources | undefined): number | undefined {
  return resources ? resources.cpuUserS + resources.cpuSystemS : undefined;
}

/**
 * CPU seconds this run folder itself used: a fork's resources carry its donor's (the cost of the
 * model it evaluates), which an experiment's sums count once, in the donor.
 */
export function ownCpuSecondsOf(meta: Pick<RunMeta, 'resources' | 'forkedFrom'>): number | undefined {
  const all = cpuSecondsOf(meta.resources);
  const inherited = meta.forkedFrom?.inherited;
  return all === undefined || inherited === undefined ? all : Math.max(0, all - inherited.cpuUserS - inherited.cpuSystemS);
}

export const runMetaSchema = z.object({
  formatVersion: z.literal(formatVersion),
  experiment: z.string(),
  runId: z.string(),
  status: runStatusSchema,
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime().optional(),
  resumedAt: z.array(z.iso.datetime()).default([]),
  git: gitInfoSchema,
  packages: z.record(z.string(), z.string()).describe('package name -> version'),
  backend: z.string(),
  backendInfo: z.record(z.string(), z.unknown()).optional().describe('adapter details, e.g. GPU name'),
  machine: machineInfoSchema,
  seed: z.number().int(),
  resources: runResourcesSchema.optional().describe('CPU time and machine load; absent in runs written before it was recorded'),
  forkedFrom: z
    .object({
      run: z.string().describe('the finished run folder whose training this run continued'),
      step: z.number().int().nonnegative().describe('its checkpoint this run started from'),
      inherited: z
        .object({ cpuUserS: z.number().nonnegative(), cpuSystemS: z.number().nonnegative(), trainingFlops: z.number().nonnegative().optional() })
        .optional()
        .describe("the donor's resources this run's carry (already in `resources`): what an experiment's sums leave out, having counted them in the donor"),
    })
    .optional()
    .describe("a run that took another run's trained model (its metrics, samples, checkpoint and resources) and only evaluated it again (forkRun)"),
  error: runErrorSchema.optional(),
});
export type RunMeta = z.infer<typeof runMetaSchema>;

export const metricDirectionSchema = z.enum(['min', 'max']);
export type MetricDirection = z.infer<typeof metricDirectionSchema>;

export const metricSummarySchema = z.object({
  count: z.number().int().nonnegative(),
  last: z.number(),
  lastStep: z.number().int(),
  min: z.number(),
  max: z.number(),
  best: z.number(),
  bestStep: z.number().int(),
  direction: metricDirectionSchema,
});
export type MetricSummary = z.infer<typeof metricSummarySchema>;

/** Final evaluation results: nested objects of numbers, strings, booleans or null. */
export type EvalValue = number | string | boolean | null | EvalValue[] | { [key: string]: EvalValue };
export const evalValueSchema: z.ZodType<EvalValue> = z.lazy(() =>
  z.union([
    z.number(),
    z.string(),
    z.boolean(),
    z.null(),
    z.array(evalValueSchema),
    z.record(z.string(), evalValueSchema),
  ]),
);

export const summarySchema = z.object({
  formatVersion: z.literal(formatVersion),
  updatedAt: z.iso.datetime(),
  metrics: z.record(z.string(), metricSummarySchema),
  eval: z.record(z.string(), evalValueSchema),
});
export type Summary = z.infer<typeof summarySchema>;

export const sampleSchema = z.object({
  step: z.number().int().nonnegative(),
  prompt: z.string(),
  output: z.string(),
  model: z.string().optional(),
});
export type Sample = z.infer<typeof sampleSchema>;

/** Formats zod issues as `key.path: reason` lines. */
export function formatZodIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
