/**
 * `kind: bench`: generation speed and KV-cache memory of the input models, measured in one
 * process on the same backend, prompts and settings (batch 1, greedy, float32): tokens/s with
 * and without the first generated sentence (the paper excludes it), sentences/s, and cached
 * KV bytes per context token. An `eval` stage that takes this stage as an input shows the
 * figures in its table; they are also merged into each model's summary.json.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readSummary, RUN_FILES, writeJsonAtomic } from '@sentencelab/runs';
import { z } from 'zod';
import { datasetDirOf, loadData, pickDocuments, tokenizerArtifact } from './dataset.js';
import type { AnyStage, Artifact, Stage } from './types.js';

export const benchStageSchema = z.strictObject({
  prompts: z.number().int().positive().default(4).describe('test documents used as prompts'),
  contextSentences: z.number().int().positive().default(2).describe('sentences of each document given as the prompt'),
  sentences: z.number().int().positive().default(4).describe('sentences generated per prompt'),
  repeats: z.number().int().positive().default(1).describe('passes over the prompts (after one untimed warm-up generation)'),
});

export const benchStage: Stage<typeof benchStageSchema> = {
  kind: 'bench',
  description: 'generation speed (tokens/s, sentences/s) and KV-cache bytes per context token',
  schema: benchStageSchema,
  inputs: {
    tokenizer: { kinds: ['tokenizer'], description: 'the dataset whose test documents are the prompts' },
    models: { kinds: ['token-lm', 'sllm'], many: true, description: 'the generating models to measure' },
  },
  packages: ['@sentencelab/latent-lm', '@sentencelab/data'],
  trains: false,
  async run(ctx) {
    const c = ctx.config;
    const { stageRegistry } = await import('./registry.js');
    const registry: ReadonlyMap<string, AnyStage> = stageRegistry();
    const data = await loadData(datasetDirOf(tokenizerArtifact(ctx.inputs)));
    const prompts = pickDocuments(await data.split('test'), c.prompts, c.contextSentences);
    if (prompts.length === 0) throw new Error(`stage ${ctx.name}: no test document has ${c.contextSentences} sentences for a prompt`);
    const results: Record<string, Record<string, number>> = {};
    for (const a of ctx.inputs['models'] as Artifact[]) {
      const stage = registry.get(a.kind);
      if (!stage?.benchmark) throw new Error(`stage ${ctx.name}: a ${a.kind} model cannot be benchmarked`);
      await stage.benchmark(a, prompts.slice(0, 1), { ...c, repeats: 1, sentences: 1 });
      const r = await stage.benchmark(a, prompts, c);
      results[a.stage] = r;
      ctx.log(`${a.stage}: ${r['tokens_per_s']?.toFixed(1)} tokens/s (${r['tokens_per_s_with_first']?.toFixed(1)} with the first sentence), KV ${r['kv_bytes_per_token']?.toFixed(0)} B/token`);
      if (a.runDir && existsSync(join(a.runDir, RUN_FILES.summary))) {
        const summary = await readSummary(a.runDir);
        if (summary) writeJsonAtomic(join(a.runDir, RUN_FILES.summary), { ...summary, updatedAt: new Date().toISOString(), eval: { ...summary.eval, ...r } });
      }
    }
    return { files: {}, meta: { results, prompts: prompts.map((d) => d.id), settings: c } };
  },
};
