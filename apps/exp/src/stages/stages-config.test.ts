import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { planPipeline } from '../pipeline/plan.js';
import { closestPrompt } from './bench.js';
import { comparisonTable, copyPrevFlag, matchedBudget, overlapLines, pairedLines, unequalBudgets, type ModelResult } from './eval.js';
import { STAGES, stageRegistry } from './registry.js';

const repoRoot = join(__dirname, '..', '..', '..', '..');

function write(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'exp-stages-')), 'p.yaml');
  writeFileSync(file, yaml);
  return file;
}

const base = `name: t\nstages:\n  tok: {kind: tokenizer}\n`;

describe('stage config sections', () => {
  test('model sections are validated by the model package schema, naming the key path', () => {
    const file = write(`${base}  svae: {kind: svae, inputs: {tokenizer: tok}, model: {dModel: 30, encoder: {heads: 4, layerz: 1}}}\n`);
    let message = '';
    try {
      loadPipeline(file, STAGES);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`${file}: stages.svae.model.encoder: unknown key "layerz"`);
  });

  test('a value the pipeline derives cannot be set in a model section', () => {
    const file = write(`${base}  svae: {kind: svae, inputs: {tokenizer: tok}, model: {vocabSize: 500}}\n`);
    expect(() => loadPipeline(file, STAGES)).toThrow(/stages\.svae\.model\.vocabSize: set by the pipeline \(the tokenizer\); remove it here/);
  });

  test('train sections reject bad values and unknown keys', () => {
    let message = '';
    try {
      loadPipeline(write(`${base}  svae: {kind: svae, inputs: {tokenizer: tok}, train: {steps: 0}}\n`), STAGES);
    } catch (e) {
      message = (e as Error).message;
    }
    // Once, and alone (it used to print twice; a warmup complaint about steps 0 is noise).
    expect(message.split('\n')).toEqual([expect.stringMatching(/stages\.svae\.train\.steps: Too small/)]);
    // warmupSteps >= steps used to pass validation and --dry-run, then fail at training start.
    expect(() => loadPipeline(write(`${base}  svae: {kind: svae, inputs: {tokenizer: tok}, train: {steps: 40}}\n`), STAGES)).toThrow(
      /stages\.svae\.train\.warmupSteps: 50 must be less than steps \(40\): a cosine schedule decays after the warmup; lower warmupSteps or use schedule: constant/,
    );
    expect(() => loadPipeline(write(`${base}  svae: {kind: svae, inputs: {tokenizer: tok}, train: {steps: 40, schedule: constant}}\n`), STAGES)).not.toThrow();
    expect(() => loadPipeline(write(`${base}  svae: {kind: svae, inputs: {tokenizer: tok}, train: {lr: fast}}\n`), STAGES)).toThrow(/stages\.svae\.train\.lr: Invalid input: expected number/);
    expect(() => loadPipeline(write(`${base}  svae: {kind: svae, inputs: {tokenizer: tok}, train: {stpes: 3}}\n`), STAGES)).toThrow(/stages\.svae\.train: unknown key "stpes"/);
  });

  test('a token LM window must cover its learned positions, or positions past it are never trained', () => {
    const lm = (extra: string) => write(`${base}  lm: {kind: token-lm, inputs: {tokenizer: tok}, model: {decoder: {maxLen: 128}}${extra}}\n`);
    expect(() => loadPipeline(lm(', seqLen: 64'), STAGES)).toThrow(/stages\.lm\.seqLen: 64 < model\.decoder\.maxLen 128: learned positions 64\.\.127 would never be trained/);
    expect(() => loadPipeline(lm(', seqLen: 256'), STAGES)).toThrow(/stages\.lm\.seqLen: 256 exceeds model\.decoder\.maxLen 128/);
    expect(() => loadPipeline(lm(''), STAGES)).not.toThrow();
    const rotary = write(`${base}  lm: {kind: token-lm, inputs: {tokenizer: tok}, model: {decoder: {maxLen: 128, positions: rotary}}, seqLen: 64}\n`);
    expect(() => loadPipeline(rotary, STAGES)).not.toThrow();
  });

  test('gpu: chooses the webgpu adapter and rejects unknown keys', () => {
    const gpu = (g: string) => write(`name: t\nbackend: webgpu\ngpu: ${g}\nstages:\n  tok: {kind: tokenizer}\n`);
    expect(loadPipeline(gpu('{adapter: NVIDIA H200, powerPreference: low-power}'), STAGES).config.gpu).toEqual({ adapter: 'NVIDIA H200', powerPreference: 'low-power' });
    expect(() => loadPipeline(gpu('{index: 1}'), STAGES)).toThrow(/gpu: unknown key "index"/);
    expect(() => loadPipeline(gpu('{powerPreference: fast}'), STAGES)).toThrow(/gpu\.powerPreference/);
  });

  test('a diffusion head checks its own cross-field rules at config time', () => {
    const file = write(`${base}  svae: {kind: svae, inputs: {tokenizer: tok}}\n  d: {kind: lcm-diffusion, inputs: {tokenizer: tok, svae: svae}, model: {sampling: {steps: 500}}}\n`);
    expect(() => loadPipeline(file, STAGES)).toThrow(/stages\.d\.model\.sampling\.steps: sampling\.steps \(500\) exceeds schedule\.steps \(100\)/);
  });

  test('a config that extends the quickstart with its own text corpus validates (the source is replaced, not merged)', () => {
    const file = write(`extends: ${join(repoRoot, 'configs/quickstart.yaml')}\ndata:\n  source: {type: text, paths: [corpus.txt]}\n`);
    const { config } = loadPipeline(file, STAGES);
    const { source } = config.data as { source: unknown };
    expect(source).toMatchObject({ type: 'text', paths: ['corpus.txt'] });
    expect(source).not.toHaveProperty('limit');
  });

  test("the eval's baseline and headBaselines name its models, each head's baseline another head: refused when planned", () => {
    const heads = `${base}  svae: {kind: svae, inputs: {tokenizer: tok}}
  a: {kind: lcm-mse, inputs: {tokenizer: tok, svae: svae}}
  b: {kind: lcm-energy, inputs: {tokenizer: tok, svae: svae}}
`;
    const plan = (evalOptions: string) => {
      const file = write(`${heads}  eval: {kind: eval, inputs: {tokenizer: tok, models: [svae, a, b]}${evalOptions}}
`);
      return () => planPipeline(loadPipeline(file, STAGES).config, stageRegistry(), file);
    };
    expect(plan(', baseline: a, headBaselines: {b: a}')()).toHaveLength(5);
    expect(plan(', baseline: c')).toThrow(/stages\.eval\.baseline: "c" is not one of its models \(svae, a, b\)/);
    expect(plan(', headBaselines: {b: c}')).toThrow(/stages\.eval\.headBaselines\.b: "c" is not one of its models \(svae, a, b\)/);
    expect(plan(', headBaselines: {b: svae}')).toThrow(/stages\.eval\.headBaselines\.b: "svae" is a svae stage; only concept heads \(lcm-mse, lcm-diffusion, lcm-energy\) are paired with a baseline head/);
    expect(plan(', headBaselines: {b: b}')).toThrow(/stages\.eval\.headBaselines\.b: a head cannot be its own baseline/);
  });

  test('the shipped configs validate and plan', () => {
    for (const name of ['configs/quickstart.yaml', 'configs/paper/sllm-vs-token.yaml', 'configs/paper/lcm.yaml']) {
      const file = join(repoRoot, name);
      const { config } = loadPipeline(file, STAGES);
      expect(planPipeline(config, stageRegistry(), file).length).toBeGreaterThan(2);
    }
  });
});

describe('comparisonTable', () => {
  test('shows only the columns some model has, and ratios to the baseline', () => {
    const table = comparisonTable(
      [
        { stage: 'lm', kind: 'token-lm', results: { params: 1000, ppl: 40, ppl_tokens: 500 } },
        { stage: 'sllm', kind: 'sllm', results: { params: 1500, ppl: 60, ppl_tokens: 500 } },
        { stage: 'mse', kind: 'lcm-mse', results: { l2: 0.25 } },
      ],
      'lm',
    );
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^model\s+kind\s+params\s+PPL\s+PPL tokens\s+L2\s+params xlm\s+PPL xlm$/);
    expect(lines[3]).toMatch(/^sllm\s+sllm\s+1500\s+60\s+500\s+-\s+1\.500\s+1\.500$/);
    expect(lines[4]).toMatch(/^mse\s+lcm-mse\s+-\s+-\s+-\s+0\.2500\s+-\s+-$/);
  });

  test('the quality and generation parts split the columns, each with its own ratios', () => {
    const rows = [
      { stage: 'lm', kind: 'token-lm', results: { params: 1000, ppl: 40, ppl_tokens: 500, generated_tokens: 96, tokens_per_s: 200, kv_bytes_per_token: 128 } },
      { stage: 'sllm', kind: 'sllm', results: { params: 1500, ppl: 60, ppl_tokens: 500, generated_tokens: 96, tokens_per_s: 300, kv_bytes_per_token: 32 } },
    ];
    expect(comparisonTable(rows, 'lm', 'quality').split('\n')[0]).toMatch(/^model\s+kind\s+params\s+PPL\s+PPL tokens\s+params xlm\s+PPL xlm$/);
    const generation = comparisonTable(rows, 'lm', 'generation').split('\n');
    expect(generation[0]).toMatch(/^model\s+kind\s+gen tokens\s+tok\/s\s+KV B\/tok analyt\.\s+tok\/s xlm\s+KV B\/tok analyt\. xlm$/);
    expect(generation[3]).toMatch(/^sllm\s+sllm\s+96\s+300\s+32\.?0*\s+1\.500\s+0\.2500$/);
    expect(comparisonTable(rows, 'lm').split('\n')[0]).toMatch(/params\s+PPL\s+PPL tokens\s+gen tokens/);
    // With the timed passes' range, tok/s prints it beside the median.
    const ranged = comparisonTable([{ ...rows[0]!, results: { ...rows[0]!.results, tokens_per_s_min: 150, tokens_per_s_max: 260.5 } }], 'lm', 'generation').split('\n');
    expect(ranged[2]).toMatch(/^lm\s+token-lm\s+96\s+200.0 \(150.0-260.5\)\s+128\s+1\s+1$/);
  });

  test('prints each 95% interval beside its figure, context min/max beside the mean, and flags a head that does not beat copy-previous', () => {
    const table = comparisonTable(
      [
        { stage: 'lm', kind: 'token-lm', results: { ppl: 40, ppl_ci_low: 38.5, ppl_ci_high: 41.25, context_tokens_mean: 80.25, context_tokens_min: 3, context_tokens_max: 120 } },
        { stage: 'mse', kind: 'lcm-mse', results: { l2: 0.5, l2_copy_prev: 0.4, contrastive_acc: 0.7, contrastive_acc_copy_prev: 0.6 } },
        { stage: 'diff', kind: 'lcm-diffusion', results: { l2: 0.3, l2_copy_prev: 0.4, contrastive_acc: 0.7, contrastive_acc_copy_prev: 0.6 } },
      ],
      null,
    );
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^model\s+kind\s+PPL\s+ctx tokens\s+L2\s+contr\. acc\s+L2 copy-prev\s+acc copy-prev\s+vs copy-prev$/);
    expect(lines[2]).toMatch(/^lm\s+token-lm\s+40.000 \[38\.500, 41\.250\]\s+80\.3 \(3-120\)/);
    expect(lines[3]).toMatch(/DOES NOT BEAT$/);
    expect(lines[4]).toMatch(/beats$/);
    // The verdict is on L2 (the paper's figure): an energy score, which a sampling head would win
    // on against any single point, does not change it.
    const head = { l2_copy_prev: 0.4, contrastive_acc: 0.7, contrastive_acc_copy_prev: 0.6 };
    expect(copyPrevFlag({ ...head, l2: 0.5, energy_score: 0.35 })).toBe('DOES NOT BEAT');
    expect(copyPrevFlag({ ...head, l2: 0.3, energy_score: 0.45 })).toBe('beats');
  });
});

describe('pairedLines', () => {
  test('says whether the paired interval of each model\'s PPL ratio to the baseline excludes 1; the table prints it in the ratio column', () => {
    const rows: ModelResult[] = [
      { stage: 'lm', kind: 'token-lm', results: { ppl: 40, ppl_tokens: 500, ppl_ci_low: 36, ppl_ci_high: 44 } },
      // Separate intervals overlap the baseline's, the paired ratio does not include 1.
      { stage: 'sllm', kind: 'sllm', results: { ppl: 44, ppl_tokens: 500, ppl_ci_low: 40, ppl_ci_high: 48, ppl_ratio: 1.1, ppl_ratio_ci_low: 1.05, ppl_ratio_ci_high: 1.15 } },
      { stage: 'big', kind: 'sllm', results: { ppl: 41, ppl_tokens: 500, ppl_ratio: 1.025, ppl_ratio_ci_low: 0.98, ppl_ratio_ci_high: 1.07 } },
    ];
    expect(pairedLines(rows, 'lm', 7, ['ppl'])).toEqual([
      'PPL sllm / lm, paired over the same documents: 1.100 [1.050, 1.150]: excludes 1: the difference is resolved',
      'PPL big / lm, paired over the same documents: 1.025 [0.980, 1.070]: includes 1: the difference is not resolved by these 7 documents',
    ]);
    expect(pairedLines(rows, null, 7, ['ppl'])).toEqual([]);
    // Brier: a difference, whose "no change" is 0.
    // BrierLM 0 for both models on every draw: no line.
    const brier: ModelResult[] = [{ stage: 'sllm', kind: 'sllm', results: { brier_lm: 0, brier_lm_diff: 0, brier_lm_diff_ci_low: 0, brier_lm_diff_ci_high: 0, brier_1: 0.047, brier_1_diff: 0.0196, brier_1_diff_ci_low: 0.0012, brier_1_diff_ci_high: 0.0387 } }];
    expect(pairedLines(brier, 'lm', 7, ['brier_lm', 'brier_1'])).toEqual(['Brier-1 sllm - lm, paired over the same documents: 0.0196 [0.0012, 0.0387]: excludes 0: the difference is resolved']);
    const table = comparisonTable(rows, 'lm', 'quality').split('\n');
    expect(table[0]).toMatch(/PPL xlm$/);
    expect(table[2]).toMatch(/\s1$/);
    expect(table[3]).toMatch(/\s1\.100 \[1\.050, 1\.150\]$/);
  });

  test('tok/s: the median per-pass ratio over the bench\'s interleaved passes, its range, and the passes above 1', () => {
    const rows: ModelResult[] = [
      { stage: 'lm', kind: 'token-lm', results: { ppl: 40, ppl_tokens: 500, tokens_per_s: 1000, speed_repeats: 5 } },
      { stage: 'sllm', kind: 'sllm', results: { ppl: 44, ppl_tokens: 500, tokens_per_s: 1100, speed_repeats: 5, tokens_per_s_ratio: 1.12, tokens_per_s_ratio_min: 0.96, tokens_per_s_ratio_max: 1.3, tokens_per_s_ratio_above_1: 4 } },
    ];
    expect(pairedLines(rows, 'lm', 7, ['tokens_per_s'])).toEqual(['tok/s sllm / lm, pass by pass (interleaved): 1.120 (0.960-1.300): above 1 in 4 of 5 passes']);
    const generation = comparisonTable(rows, 'lm', 'generation').split('\n');
    expect(generation[0]).toMatch(/^model\s+kind\s+tok\/s\s+tok\/s xlm$/);
    expect(generation[3]).toMatch(/^sllm\s+sllm\s+1100\s+1\.120 \(0\.960-1\.300\)$/);
  });
});

describe('overlapLines', () => {
  test('says whether two models\' 95% intervals overlap', () => {
    const rows = [
      { stage: 'a', kind: 'token-lm', results: { ppl: 40, ppl_ci_low: 38, ppl_ci_high: 42 } },
      { stage: 'b', kind: 'sllm', results: { ppl: 41, ppl_ci_low: 39, ppl_ci_high: 43 } },
      { stage: 'c', kind: 'sllm', results: { ppl: 60, ppl_ci_low: 55, ppl_ci_high: 65 } },
    ];
    // One pair: both figures on the line.
    expect(overlapLines(rows.slice(0, 2), ['ppl'], 7)).toEqual(['PPL: a 40 [38, 42] vs b 41 [39, 43]: 95% intervals overlap: model by model, these 7 documents do not resolve the difference']);
    expect(overlapLines(rows.slice(1), ['ppl'], 7)).toEqual(['PPL: b 41 [39, 43] vs c 60 [55, 65]: 95% intervals do not overlap']);
    // Several pairs: one line, the pairs grouped (the figures are in the tables above it).
    expect(overlapLines(rows, ['ppl'], 7)).toEqual(['PPL (a, b, c): 95% intervals apart: a vs c, b vs c; overlapping (model by model, not resolved by these 7 documents): a vs b']);
    const close = rows.map((r) => ({ ...r, results: { ...r.results, ppl_ci_low: 30, ppl_ci_high: 70 } }));
    expect(overlapLines(close, ['ppl'], 7)).toEqual(["PPL (a, b, c): every pair's 95% intervals overlap: model by model, these 7 documents resolve no difference"]);
    // Two identical points (BrierLM 0 [0, 0] twice) say nothing: no line.
    expect(overlapLines([{ stage: 'a', kind: 'token-lm', results: { brier_lm: 0, brier_lm_ci_low: 0, brier_lm_ci_high: 0 } }, { stage: 'b', kind: 'sllm', results: { brier_lm: 0, brier_lm_ci_low: 0, brier_lm_ci_high: 0 } }], ['brier_lm'], 3)).toEqual([]);
  });
});

describe('unequalBudgets', () => {
  test('warns when the benched models generated different numbers of tokens, else says nothing', () => {
    const row = (stage: string, generated?: number) => ({ stage, kind: 'sllm', results: generated === undefined ? { ppl: 1 } : ({ generated_tokens: generated, tokens_per_s: 10 } as Record<string, number>) });
    expect(unequalBudgets([row('lm', 96), row('sllm', 96), row('svae')])).toEqual([]);
    expect(unequalBudgets([row('lm', 8), row('sllm', 1), row('svae')])).toEqual(['warning: the models generated different numbers of tokens (lm 8, sllm 1): their tok/s are not equal work']);
  });
});

describe('matchedBudget', () => {
  test('the token LM\'s positions less a BOS and the longest scored sentence; the SLLM\'s sentence positions', () => {
    expect(matchedBudget([{ contextLimit: { positions: 128 } }, { contextLimit: { sentences: 16 } }], 40)).toEqual({ maxTokens: 87, maxSentences: 16 });
    expect(matchedBudget([{ contextLimit: { sentences: 8 } }], 40)).toEqual({ maxTokens: Number.POSITIVE_INFINITY, maxSentences: 8 });
  });
});

describe('closestPrompt', () => {
  test('the whole-sentence prefix with the most tokens up to the length, over all documents', () => {
    // Tokens with EOS: doc a: 4, 3 (prefixes 4, 7); doc b: 6, 2 (prefixes 6, 8).
    const docs = [[[1, 2, 3], [4, 5]], [[1, 2, 3, 4, 5], [6]]];
    expect(closestPrompt(docs, 7)).toEqual(docs[0]);
    expect(closestPrompt(docs, 6)).toEqual([docs[1]![0]]);
    expect(closestPrompt(docs, 100)).toEqual(docs[1]);
    // Shorter than every first sentence: the shortest prefix.
    expect(closestPrompt(docs, 2)).toEqual([docs[0]![0]]);
  });
});
