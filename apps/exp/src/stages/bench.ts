/**
 * `kind: bench`: generation speed and KV-cache memory of the input models, measured in one
 * process on the same backend, prompts and settings (batch 1, greedy, float32): tokens/s with
 * and without the first generated sentence (the paper excludes it), sentences/s, and cached
 * KV bytes per context token. An `eval` stage that takes this stage as an input shows the
 * figures in its table; they are also merged into each model's summary.json.
 */
import { analyticalKvBytesPerToken, generationSummary, measureGeneration, meanTokensPerSentence } from '@sentencelab/metrics';
import { mergeEvalResults } from '@sentencelab/runs';
import { z } from 'zod';
import { datasetDirOf, loadData, pickDocuments, tokenizerArtifact } from './dataset.js';
import type { AnyStage, Artifact, Stage } from './types.js';

export const benchStageSchema = z.strictObject({
  prompts: z.number().int().positive().default(4).describe('test documents used as prompts'),
  contextSentences: z.number().int().positive().default(2).describe('sentences of each document given as the prompt'),
  sentences: z.number().int().positive().default(4).describe('sentences generated per prompt'),
  warmup: z.number().int().nonnegative().default(1).describe('untimed generations on the first prompt before timing'),
});

export const benchStage: Stage<typeof benchStageSchema> = {
  kind: 'bench',
  description: 'generation speed (tokens/s, sentences/s) and KV-cache bytes per context token',
  schema: benchStageSchema,
  inputs: {
    tokenizer: { kinds: ['tokenizer'], description: 'the dataset whose test documents are the prompts' },
    models: { kinds: ['token-lm', 'sllm'], many: true, description: 'the generating models to measure' },
  },
  packages: ['@sentencelab/latent-lm', '@sentencelab/data', '@sentencelab/metrics'],
  trains: false,
  async run(ctx) {
    const c = ctx.config;
    const { stageRegistry } = await import('./registry.js');
    const registry: ReadonlyMap<string, AnyStage> = stageRegistry();
    const data = await loadData(datasetDirOf(tokenizerArtifact(ctx.inputs)));
    const prompts = pickDocuments(await data.split('test'), c.prompts, c.contextSentences);
    if (prompts.length === 0) throw new Error(`stage ${ctx.name}: no test document has ${c.contextSentences} sentences for a prompt`);
    const results: Record<string, Record<string, number>> = {};
    const documents = prompts.map((d) => d.sentences.slice(0, c.contextSentences));
    const tokensPerSentence = meanTokensPerSentence(documents);
    for (const a of ctx.inputs['models'] as Artifact[]) {
      const stage = registry.get(a.kind);
      if (!stage?.generator) throw new Error(`stage ${ctx.name}: a ${a.kind} model cannot be benchmarked`);
      const model = await stage.generator(a, c);
      let r: Record<string, number>;
      try {
        const speed = await measureGeneration({ generate: (prompt) => model.generate(prompt) }, documents, { generateOptions: {}, warmup: c.warmup });
        r = { ...generationSummary(speed), kv_bytes_per_token: analyticalKvBytesPerToken(model.kv, tokensPerSentence) };
      } finally {
        model.dispose();
      }
      results[a.stage] = r;
      ctx.log(`${a.stage}: ${r['tokens_per_s_excl_first']?.toFixed(1)} tokens/s after the first sentence (${r['tokens_per_s']?.toFixed(1)} with it), KV ${r['kv_bytes_per_token']?.toFixed(1)} B per context token`);
      if (a.runDir) await mergeEvalResults(a.runDir, r);
    }
    return { files: {}, meta: { results, prompts: prompts.map((d) => d.id), settings: c } };
  },
};
