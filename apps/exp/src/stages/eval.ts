/**
 * `kind: eval`: evaluates every input model on the same held-out documents and prints one
 * comparison table. Token predictors (token LM, SLLM) are scored on exactly the same tokens:
 * sentences 2..N of each document with their EOS (the scored token count is printed with the
 * PPL, and a mismatch between models is an error). Models evaluated by their own stage (the
 * SVAE's reconstruction, the concept heads' L2 / contrastive accuracy / round trip) bring
 * their results in their artifact. Results are also merged into each model's summary.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { perplexityOverDocuments, type PerplexityComparison } from '@sentencelab/metrics';
import { mergeEvalResults } from '@sentencelab/runs';
import { z } from 'zod';
import { renderTable, type Cell } from '../table.js';
import { datasetDirOf, loadData, pickDocuments, tokenizerArtifact } from './dataset.js';
import { matchingReport, predictorProfile } from './matching.js';
import type { AnyStage, Artifact, Stage } from './types.js';

export const evalStageSchema = z.strictObject({
  documents: z.number().int().positive().default(50).describe('held-out documents (with at least 2 sentences) every model is scored on'),
  split: z.enum(['test', 'validation']).default('test').describe('which held-out split the documents come from'),
  baseline: z.string().nullable().default(null).describe('stage whose figures the ratio columns divide by; null = the first token-lm input'),
});

/** Columns of the comparison table, in order: [key in the results, header]. */
const COLUMNS: readonly [string, string][] = [
  ['params', 'params'],
  ['ppl', 'PPL'],
  ['ppl_tokens', 'PPL tokens'],
  ['tokens_per_s_excl_first', 'tok/s'],
  ['tokens_per_s', 'tok/s incl. 1st'],
  ['kv_bytes_per_token', 'KV B/token'],
  ['l2', 'L2'],
  ['contrastive_acc', 'contrastive acc'],
  ['roundtrip_l2', 'round-trip L2'],
  ['recon_token_acc', 'recon token acc'],
  ['recon_exact_match', 'recon exact'],
];
/** Figures shown again as a ratio to the baseline (for the token predictors: token LM, SLLM). */
const RATIOS = ['params', 'ppl', 'tokens_per_s_excl_first', 'kv_bytes_per_token'];

export interface ModelResult {
  stage: string;
  kind: string;
  runDir?: string;
  results: Record<string, number>;
}

/** The comparison table (figures absent for a model print as "-"). */
export function comparisonTable(rows: readonly ModelResult[], baseline: string | null): string {
  const present = COLUMNS.filter(([k]) => rows.some((r) => r.results[k] !== undefined));
  const base = rows.find((r) => r.stage === baseline);
  const ratios = base ? RATIOS.filter((k) => present.some(([p]) => p === k) && base.results[k] !== undefined && base.results[k] !== 0) : [];
  const headers = ['model', 'kind', ...present.map(([, h]) => h), ...ratios.map((k) => `${COLUMNS.find(([c]) => c === k)![1]} x${baseline}`)];
  const body: Cell[][] = rows.map((r) => [
    r.stage,
    r.kind,
    ...present.map(([k]) => r.results[k]),
    // Ratios compare token predictors only (the paper's table); other rows leave them blank.
    ...ratios.map((k) => (r.results[k] === undefined || r.results['ppl_tokens'] === undefined ? undefined : r.results[k]! / base!.results[k]!)),
  ]);
  return renderTable(headers, body);
}

function numbersOf(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

export const evalStage: Stage<typeof evalStageSchema> = {
  kind: 'eval',
  description: 'score every model on the same held-out documents; one comparison table',
  schema: evalStageSchema,
  inputs: {
    tokenizer: { kinds: ['tokenizer'], description: 'the dataset whose held-out documents are scored' },
    models: { kinds: ['token-lm', 'sllm', 'svae', 'lcm-mse', 'lcm-diffusion', 'bench'], many: true, description: 'the models to compare (and bench stages with their speed figures)' },
  },
  packages: ['@sentencelab/data', '@sentencelab/metrics'],
  trains: false,
  async run(ctx) {
    const c = ctx.config;
    const { stageRegistry } = await import('./registry.js');
    const registry: ReadonlyMap<string, AnyStage> = stageRegistry();
    const data = await loadData(datasetDirOf(tokenizerArtifact(ctx.inputs)));
    const docs = pickDocuments(await data.split(c.split), c.documents, 2);
    if (docs.length === 0) throw new Error(`stage ${ctx.name}: the ${c.split} split has no document with 2 or more sentences`);
    const inputs = ctx.inputs['models'] as Artifact[];
    const benches = inputs.filter((a) => a.kind === 'bench');
    const models = inputs.filter((a) => a.kind !== 'bench');
    const predictors = models.filter((a) => registry.get(a.kind)?.scorer !== undefined);
    const scorers = await Promise.all(predictors.map(async (a) => ({ name: a.stage, scorer: await registry.get(a.kind)!.scorer!(a) })));
    let ppl: PerplexityComparison | undefined;
    try {
      if (scorers.length > 0) ppl = await perplexityOverDocuments(scorers, docs.map((d) => d.sentences), { log: ctx.log });
    } finally {
      for (const s of scorers) s.scorer.dispose();
    }
    const rows: ModelResult[] = [];
    for (const a of models) {
      const results = numbersOf((a.meta['eval'] as unknown) ?? {});
      const p = ppl?.models.find((m) => m.name === a.stage);
      if (p) Object.assign(results, { ppl: p.ppl, ppl_tokens: p.tokens });
      for (const b of benches) Object.assign(results, numbersOf((b.meta['results'] as Record<string, unknown> | undefined)?.[a.stage]));
      rows.push({ stage: a.stage, kind: a.kind, ...(a.runDir ? { runDir: a.runDir } : {}), results });
      if (a.runDir) await mergeEvalResults(a.runDir, results);
    }
    const baseline = c.baseline ?? models.find((a) => a.kind === 'token-lm')?.stage ?? null;
    if (c.baseline !== null && !models.some((a) => a.stage === c.baseline)) {
      throw new Error(`stage ${ctx.name}: baseline "${c.baseline}" is not one of its models (${models.map((a) => a.stage).join(', ')})`);
    }
    const matching = matchingReport(predictors.map(predictorProfile), baseline);
    for (const line of [...matching.lines, ...matching.warnings]) ctx.log(line);
    const table = [comparisonTable(rows, baseline), ...matching.lines, ...matching.warnings].join('\n');
    const header = `${docs.length} ${c.split} documents; PPL over sentences 2..N of each (+ EOS)${ppl ? `: ${ppl.tokens} tokens, the same for every model (scored-token fingerprint ${ppl.fingerprint})` : ''}`;
    writeFileSync(join(ctx.outDir, 'comparison.txt'), `${header}\n${table}\n`);
    writeFileSync(join(ctx.outDir, 'comparison.json'), JSON.stringify({ documents: docs.map((d) => d.id), baseline, fingerprint: ppl?.fingerprint ?? null, rows, warnings: matching.warnings }, null, 2) + '\n');
    return { files: { table: 'comparison.txt', results: 'comparison.json' }, meta: { table: `${header}\n${table}`, rows, baseline } };
  },
};
