import { z } from 'zod';

/** The `train:` section of every training stage: optimizer, schedule, and the loop's cadence. */
export const trainSchema = z
  .strictObject({
    steps: z.number().int().positive().default(1000).describe('optimizer steps'),
    batchSize: z.number().int().positive().default(16).describe('examples per step (token windows or documents, per model)'),
    lr: z.number().positive().default(3e-4).describe('peak learning rate'),
    minLrRatio: z.number().min(0).max(1).default(0.1).describe('final learning rate as a fraction of lr (cosine/linear decay)'),
    warmupSteps: z.number().int().nonnegative().default(50).describe('linear warmup from 0 to lr'),
    schedule: z.enum(['cosine', 'linear', 'constant']).default('cosine').describe('decay after warmup'),
    weightDecay: z.number().min(0).default(0.01).describe('AdamW decoupled weight decay'),
    beta1: z.number().min(0).max(1).default(0.9).describe('AdamW first-moment decay'),
    beta2: z.number().min(0).max(1).default(0.95).describe('AdamW second-moment decay'),
    clipNorm: z.number().positive().nullable().default(1).describe('clip the global gradient norm to this; null = no clipping'),
    evalEvery: z.number().int().nonnegative().default(100).describe('validate every N steps (and at the end); 0 = only at the end'),
    evalBatches: z.number().int().positive().default(4).describe('validation batches per evaluation'),
    checkpointEvery: z.number().int().nonnegative().default(100).describe('checkpoint every N steps (and at the end); 0 = only at the end'),
    keepCheckpoints: z.number().int().positive().default(2).describe('checkpoints kept in the run folder (the latest is always kept)'),
    logEvery: z.number().int().positive().default(1).describe('log training metrics every N steps'),
  })
  .superRefine((t, ctx) => {
    // tensor's lrSchedule would refuse it at training start, naming no file or key.
    if (t.schedule !== 'constant' && Number.isInteger(t.steps) && t.steps > 0 && t.warmupSteps >= t.steps) {
      ctx.addIssue({
        code: 'custom',
        path: ['warmupSteps'],
        message: `${t.warmupSteps} must be less than steps (${t.steps}): a ${t.schedule} schedule decays after the warmup; lower warmupSteps or use schedule: constant`,
      });
    }
  })
  .describe('training loop: AdamW + warmup/decay schedule + gradient clipping, eval and checkpoint cadence');

export type TrainConfig = z.output<typeof trainSchema>;
