/**
 * `kind: tokenizer`: prepares the pipeline's `data:` section (corpus -> segmentation ->
 * tokenizer training -> tokenized Arrow splits, cached by the data package) and hands the
 * tokenizer and dataset to the model stages. Its `segment:` option replaces data.segment, so
 * one pipeline can prepare the same corpus as sentences, clauses and K-token chunks (the
 * tokenizer itself is trained once: its cache key ignores segmentation).
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { dataConfigSchema, lengthSplitShare, prepareDataset, segmentConfigSchema, splitShareWarning, type DataConfig } from '@sentencelab/data';
import type { Stage } from './types.js';

export const tokenizerStageSchema = z
  .strictObject({
    segment: segmentConfigSchema
      .nullable()
      .default(null)
      .describe(
        "this stage's segmentation, replacing data.segment as a whole (e.g. {mode: chunk, tokens: 8, maxTokens: 8}), so one pipeline can compare units; null = data.segment",
      ),
  })
  .describe('the tokenizer and dataset are described by the top-level data: section (segment: may replace its segmentation)');

/** What a tokenizer artifact's meta holds. */
export interface TokenizerArtifactMeta {
  /** The prepared dataset folder (train/validation/test Arrow splits and tokenizer.json). */
  datasetDir: string;
  vocabSize: number;
  stats: unknown;
  [key: string]: unknown;
}

export const tokenizerStage: Stage<typeof tokenizerStageSchema> = {
  kind: 'tokenizer',
  description: 'prepare the dataset and train (or load) its BPE tokenizer',
  schema: tokenizerStageSchema,
  inputs: {},
  packages: ['@sentencelab/data', '@sentencelab/segment'],
  trains: false,
  isUsable: (artifact) => typeof artifact.meta['datasetDir'] === 'string' && existsSync(join(artifact.meta['datasetDir'], 'manifest.json')),
  async run(ctx) {
    const shared = dataConfigSchema.parse(ctx.pipeline.data);
    const data: DataConfig = ctx.config.segment === null ? shared : { ...shared, segment: ctx.config.segment };
    let lastStage = '';
    const result = await prepareDataset(data, {
      onProgress: (p) => {
        if (p.stage !== lastStage) ctx.log(`${p.stage}...`);
        lastStage = p.stage;
      },
    });
    ctx.log(`dataset ${result.dir}${result.cached ? ' (from the data cache)' : ''}`);
    const s = result.stats;
    ctx.log(`sentences split for length: ${s.sentencesSplitForLength} of ${s.sentences} (${(lengthSplitShare(s) * 100).toFixed(1)}%)`);
    const warning = splitShareWarning(s, data.segment.maxTokens);
    if (warning !== null) ctx.log(warning);
    copyFileSync(join(result.dir, 'tokenizer.json'), join(ctx.outDir, 'tokenizer.json'));
    const meta: TokenizerArtifactMeta = { datasetDir: result.dir, vocabSize: data.tokenizer.vocabSize, stats: result.stats };
    return { files: { tokenizer: 'tokenizer.json' }, meta };
  },
};
