/**
 * `kind: bench`: generation speed and KV-cache memory of the input models, measured in one
 * process on the same backend, prompts and settings (batch 1, greedy, float32).
 * - Speed: every model generates exactly `tokens` tokens per prompt (decoder steps: a
 *   sentence's tokens and the step that ends it; the SLLM's stop head is disabled, it decodes no
 *   empty sentence (which would end its document) and its last sentence is cut to the budget), so
 *   tokens/s compare equal work; the generated count is stored (the eval warns if counts differ).
 * - Memory: for several context lengths, the bytes all live KV caches hold, read on the cache
 *   objects once the prompt is in them, fitted against the positions the prompt takes (tokens for
 *   a token LM, sentences for an SLLM): slope = bytes per cache position (`kv_bytes_per_position_measured`;
 *   the eval stage turns it into bytes per context token over its documents, as it does the
 *   analytical figure). What generating adds on top (the generated positions; the SLLM's
 *   SentenceVAE decoder self- and cross-attention cache), which does not grow with the context,
 *   is stored apart: its most over the prompts (`kv_generation_bytes`).
 * An `eval` stage that takes this stage as an input shows the figures in its table (beside the
 * analytical KV figure it computes on its documents); they are also merged into each model's
 * summary.json.
 */
import { generationSummary, measureGeneration, measureGenerationKvBytes, type Document } from '@sentencelab/metrics';
import { mergeEvalResults, rangeKeys } from '@sentencelab/runs';
import { quantile } from '@sentencelab/tensor';
import { z } from 'zod';
import { datasetDirOf, loadData, pickDocuments, tokenizerArtifact } from './dataset.js';
import type { Artifact, BenchModel, Stage } from './types.js';

export const benchStageSchema = z.strictObject({
  prompts: z.number().int().positive().default(4).describe('test documents used as prompts'),
  contextSentences: z.number().int().positive().default(2).describe('sentences of each document given as the prompt'),
  tokens: z.number().int().positive().default(32).describe('tokens every model generates per prompt (the same budget for all)'),
  warmup: z.number().int().nonnegative().default(1).describe('untimed generations on the first prompt before timing'),
  repeats: z.number().int().positive().default(5).describe('timed passes over the prompts: each rate is their median (one pass of a small budget takes ~0.1 s and moves by tens of percent); the tokens/s range is stored beside it'),
  kvContexts: z.array(z.number().int().positive()).min(2).default([16, 32, 48, 64, 80]).describe('context lengths (tokens) at which the KV bytes during generation are measured; those that do not fit every model beside `tokens` are dropped'),
});

/** Where the slowest and fastest pass's tokens/s are stored: `tokens_per_s_min`, `tokens_per_s_max`. */
const SPEED_RANGE = rangeKeys('tokens_per_s');

/**
 * One timed pass over the prompts with an exact token budget: a sentence counts for its decoder
 * steps, length + 1 (its EOS or cut step), except a token LM's trailing sentence cut by the
 * budget, which took only its length: each call's count is capped at what its budget had left.
 */
async function budgetedPass(model: Pick<BenchModel, 'generate'>, prompts: readonly Document[], tokens: number, warmup: number): Promise<Record<string, number>> {
  let left = 0;
  const speed = await measureGeneration(
    {
      generate: (prompt) => {
        left = tokens;
        return model.generate(prompt, { maxTokens: tokens });
      },
    },
    prompts,
    {
      generateOptions: {},
      warmup,
      tokensOf: (s) => {
        const n = Math.min(s.length + 1, left);
        left -= n;
        return n;
      },
    },
  );
  return generationSummary(speed);
}

/**
 * Speed of several models over the same prompts with an exact token budget, `repeats` timed
 * passes each, interleaved: pass k runs every model once, in an order rotated by k (A B, B A,
 * A B, ... for two), so a change in the machine's load over the measurement falls on every
 * model alike instead of on whichever ran last. The warm-up runs before each model's first
 * pass only. Per model: each rate is its passes' median, `tokens_per_s_min` / `_max` their
 * range, `speed_repeats` their count; every pass generates the same tokens (greedy), so
 * `generated_tokens` is one pass's. `passRates`: tokens/s of each pass in pass order (pass k of
 * every model ran next to each other: {@link passRatios} compares them pass by pass).
 */
export async function measureBudgetedSpeeds(
  models: readonly Pick<BenchModel, 'generate'>[],
  prompts: readonly Document[],
  tokens: number,
  warmup: number,
  repeats = 1,
): Promise<{ figures: Record<string, number>; passRates: number[] }[]> {
  const passes: Record<string, number>[][] = models.map(() => []);
  for (let pass = 0; pass < repeats; pass++) {
    for (let k = 0; k < models.length; k++) {
      const m = (k + pass) % models.length;
      passes[m]!.push(await budgetedPass(models[m]!, prompts, tokens, pass === 0 ? warmup : 0));
    }
  }
  return passes.map((own) => {
    const out: Record<string, number> = { ...own[0]! };
    // A rate is NaN in every pass or in none (the passes generate the same sentences).
    for (const key of Object.keys(out)) if (!key.startsWith('generated_tokens')) out[key] = quantile(own.map((p) => p[key]!).sort((a, b) => a - b), 0.5);
    const rates = own.map((p) => p['tokens_per_s']!);
    return { figures: { ...out, [SPEED_RANGE.low]: Math.min(...rates), [SPEED_RANGE.high]: Math.max(...rates), speed_repeats: repeats }, passRates: rates };
  });
}

/**
 * A model's tokens/s over a baseline's, pass by pass (pass k of both ran next to each other):
 * the median of the per-pass ratios, their range, and in how many passes it was above 1.
 * Undefined when the passes differ in number or a rate is not finite (nothing was timed).
 */
export function passRatios(rates: readonly number[], baseRates: readonly number[]): { median: number; low: number; high: number; above: number } | undefined {
  if (rates.length === 0 || rates.length !== baseRates.length) return undefined;
  const ratios = rates.map((r, k) => r / baseRates[k]!);
  if (!ratios.every(Number.isFinite)) return undefined;
  const sorted = [...ratios].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), low: sorted[0]!, high: sorted.at(-1)!, above: ratios.filter((r) => r > 1).length };
}

/** A rate as printed: undefined or NaN (nothing was timed) as '-'. */
const rate = (v: number | undefined): string => (v !== undefined && Number.isFinite(v) ? v.toFixed(1) : '-');
const afterFirst = (v: number | undefined): string => (v !== undefined && Number.isFinite(v) ? `${rate(v)} after the first sentence` : 'no prompt had a sentence after the first');

const contextTokens = (prompt: Document): number => prompt.reduce((a, s) => a + s.length + 1, 0);

/** Among the whole-sentence prefixes of `docs`, the one with the most tokens <= `tokens` (else the shortest). */
export function closestPrompt(docs: readonly Document[], tokens: number): Document {
  let best: Document | undefined;
  let shortest: Document | undefined;
  for (const doc of docs) {
    for (let n = 1; n <= doc.length; n++) {
      const p = doc.slice(0, n);
      const t = contextTokens(p);
      if (shortest === undefined || t < contextTokens(shortest)) shortest = p;
      if (t <= tokens && (best === undefined || t > contextTokens(best))) best = p;
      if (t > tokens) break;
    }
  }
  if (shortest === undefined) throw new Error('closestPrompt: no documents');
  return best ?? shortest;
}

export const benchStage: Stage<typeof benchStageSchema> = {
  kind: 'bench',
  description: 'generation speed (tokens/s at an equal token budget) and KV-cache bytes per cache position measured on the caches during generation',
  schema: benchStageSchema,
  inputs: {
    tokenizer: { kinds: ['tokenizer'], description: 'the dataset whose test documents are the prompts' },
    models: { kinds: ['token-lm', 'sllm'], many: true, description: 'the generating models to measure' },
  },
  packages: ['@sentencelab/latent-lm', '@sentencelab/data', '@sentencelab/metrics', '@sentencelab/tensor'],
  trains: false,
  async run(ctx) {
    const c = ctx.config;
    const registry = ctx.stages;
    const data = await loadData(datasetDirOf(tokenizerArtifact(ctx.inputs)));
    const test = await data.split('test');
    const prompts = pickDocuments(test, c.prompts, c.contextSentences);
    if (prompts.length === 0) throw new Error(`stage ${ctx.name}: no test document has ${c.contextSentences} sentences for a prompt`);
    const documents = prompts.map((d) => d.sentences.slice(0, c.contextSentences));
    const models: { artifact: Artifact; model: BenchModel }[] = [];
    try {
      for (const a of ctx.inputs['models'] as Artifact[]) {
        const stage = registry.get(a.kind);
        if (!stage?.generator) throw new Error(`stage ${ctx.name}: a ${a.kind} model cannot be benchmarked`);
        models.push({ artifact: a, model: await stage.generator(a, c) });
      }
      // KV prompts: for each context length, the test-document prefix of whole sentences closest to it from below;
      // contexts that would make a token LM's cache slide are dropped, and prompts as long as an SLLM's sentence window.
      const positions = Math.min(...models.map((m) => m.model.capacity.positions ?? Number.POSITIVE_INFINITY));
      const sentences = Math.min(...models.map((m) => m.model.capacity.sentences ?? Number.POSITIVE_INFINITY));
      const kvPrompts = [...new Map(c.kvContexts.map((n) => closestPrompt(test.map((d) => d.sentences), n)).map((p) => [contextTokens(p), p])).values()].filter(
        (p) => contextTokens(p) + 1 + c.tokens <= positions && p.length < sentences,
      );
      if (kvPrompts.length < 2) {
        throw new Error(`stage ${ctx.name}: kvContexts ${JSON.stringify(c.kvContexts)} give fewer than 2 distinct prompts that fit ${positions} positions with ${c.tokens} generated tokens (and fewer than ${sentences} sentences); lower tokens or the contexts`);
      }
      const results: Record<string, Record<string, number>> = {};
      const speeds = await measureBudgetedSpeeds(models.map((m) => m.model), documents, c.tokens, c.warmup, c.repeats);
      const passRates: Record<string, number[]> = {};
      for (const [i, { artifact: a, model }] of models.entries()) {
        const r = speeds[i]!.figures;
        passRates[a.stage] = speeds[i]!.passRates;
        // An SLLM caches one position per sentence, a token LM one per token.
        const unit = 'kvBytesPerSentence' in model.kv ? 'sentence' : 'token';
        const cachePositions = (p: Document) => (unit === 'sentence' ? p.length : contextTokens(p));
        if (new Set(kvPrompts.map(cachePositions)).size < 2) {
          throw new Error(`stage ${ctx.name}: kvContexts ${JSON.stringify(c.kvContexts)} give prompts of ${kvPrompts.map(cachePositions).join('/')} ${unit}s for ${a.stage}: it needs 2 or more lengths to measure its KV bytes per ${unit}; spread the contexts`);
        }
        const fit = await measureGenerationKvBytes(async (n, onCacheBytes) => {
          const prompt = kvPrompts.find((p) => contextTokens(p) === n)!;
          for await (const _ of model.generate(prompt, { maxTokens: c.tokens, onCacheBytes }));
          return cachePositions(prompt);
        }, kvPrompts.map(contextTokens));
        Object.assign(r, { kv_bytes_per_position_measured: fit.slope, kv_generation_bytes: fit.generationBytes, kv_fit_r2: fit.r2 });
        results[a.stage] = r;
        ctx.log(
          `${a.stage}: ${r['generated_tokens']} tokens generated, ${rate(r['tokens_per_s'])} tokens/s (median of ${c.repeats} passes${models.length > 1 ? ' interleaved with the other models\'' : ''}, ${rate(r[SPEED_RANGE.low])}-${rate(r[SPEED_RANGE.high])}; ${afterFirst(r['tokens_per_s_excl_first'])}); ` +
            `KV ${fit.slope.toFixed(1)} B per cached ${unit} (r2 ${fit.r2.toFixed(3)}, prompts of ${fit.points.map((p) => p.length).join('/')} ${unit}s), generating added up to ${fit.generationBytes.toFixed(0)} B`,
        );
        if (a.runDir) await mergeEvalResults(a.runDir, r);
      }
      return { files: {}, meta: { results, passRates, prompts: prompts.map((d) => d.id), kvContexts: kvPrompts.map(contextTokens), settings: c } };
    } finally {
      for (const m of models) m.model.dispose();
    }
  },
};
