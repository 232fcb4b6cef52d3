import { copyFileSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '@sentencelab/fs-atomic';
import { createRun, RUN_FILES, type EvalValue, type RunWriter } from '@sentencelab/runs';

const machine = { cpu: 'fixture cpu', cores: 2, memoryGb: 8, os: 'linux', node: 'v20' };
const git = { sha: '0123456789abcdef0123456789abcdef01234567', dirty: false };

/** The folder name of the fixture run whose name is an HTML injection attempt. */
export const XSS_RUN = '<img src=x onerror="window.__xss=1">';
export const PROMPTS = ['The dog barked.', 'Rain fell on <the> city & "streets".'];
/** Loss points written per training run (steps 0, 4, ..., 196). */
export const LOSS_POINTS = 50;

interface TrainSpec {
  experiment: string;
  runId: string;
  config: Record<string, unknown>;
  seed: number;
  /** Final loss level; the curve decays towards it. */
  floor: number;
  /** The pipeline stage, as the runner records it in meta.json backendInfo. */
  stage: string;
  eval: Record<string, EvalValue>;
  status?: 'done' | 'running';
}

function train(root: string, spec: TrainSpec): RunWriter {
  const run = createRun({
    root,
    experiment: spec.experiment,
    runId: spec.runId,
    config: spec.config,
    overrides: [],
    seed: spec.seed,
    backend: 'wasm',
    git,
    machine,
    packages: { '@sentencelab/runs': '0.1.0' },
    backendInfo: { stage: spec.stage, kind: spec.stage },
    flushEveryRows: 64,
  });
  for (let i = 0; i < LOSS_POINTS; i++) {
    const step = i * 4;
    const noise = Math.sin(step * 0.7 + spec.seed) * 0.08 + (spec.seed - 2) * 0.15 * Math.exp(-step / 120);
    run.logMetrics(step, { loss: spec.floor + 4 * Math.exp(-step / 40) + noise, lr: 1e-3 * Math.min(1, (step + 4) / 40) }, step * 0.05 + spec.seed * 0.01);
    if (step % 40 === 0) run.logMetrics(step, { val_ppl: Math.exp(spec.floor + 3 * Math.exp(-step / 50)) }, step * 0.05);
  }
  if (spec.status === 'running') {
    run.flush();
    return run;
  }
  run.writeSummary(spec.eval);
  run.setStatus('done');
  return run;
}

const model = (kind: string, svaeLayers: number) => ({
  model: { kind, dModel: 128, layers: 4, ...(kind === 'sllm' ? { svaeLayers } : {}) },
  train: { lr: 0.001, batch: 8, steps: 200 },
  data: { corpus: 'brown' },
});

/**
 * A runs folder like `pnpm exp` writes: a token-LM baseline, SLLMs with 1/2/4 SVAE layers (the
 * 2-layer one with three seeds), LCM heads, a running run, a corrupted and a half-written run,
 * and a run whose name, config and samples try to inject HTML.
 */
export function writeFixtureRuns(root: string): { live: RunWriter } {
  const baseline = train(root, {
    experiment: 'paper',
    runId: 'token-lm',
    config: model('token-lm', 0),
    seed: 1,
    floor: 3.2,
    stage: 'token-lm',
    // 95% intervals over documents and the tok/s passes' range as the eval stores them: sllm-h1's PPL interval overlaps this one; its bits/byte interval and tok/s range do not.
    eval: { params: 1_200_000, ppl: 45.3, ppl_ci_low: 42.04, ppl_ci_high: 48.91, ppl_tokens: 120_345, ppl_fingerprint: 'f00d', bits_per_byte: 2.5, bits_per_byte_ci_low: 2.47, bits_per_byte_ci_high: 2.53, tokens_per_s: 850, tokens_per_s_min: 800, tokens_per_s_max: 900, kv_bytes_per_token: 8192 },
  });
  baseline.appendSample({ step: 200, prompt: PROMPTS[0]!, output: 'The cat ran away.', model: 'token-lm' });
  baseline.appendSample({ step: 200, prompt: PROMPTS[1]!, output: 'People stayed inside.', model: 'token-lm' });
  for (const [layers, ppl, speed] of [
    [1, 52.1, 2100],
    [2, 48.7, 2600],
    [4, 47.9, 3000],
  ] as const) {
    const seeds = layers === 2 ? [1, 2, 3] : [1];
    for (const seed of seeds) {
      const run = train(root, {
        experiment: 'paper',
        runId: `sllm-h${layers}${seed > 1 ? `-seed${seed}` : ''}`,
        config: { ...model('sllm', layers), seed },
        seed,
        floor: 3.25 + 0.1 * layers + 0.02 * seed,
        stage: 'sllm',
        eval: {
          params: 1_150_000 + layers * 20_000,
          ppl: ppl + (seed - 1) * 0.4,
          ...(layers === 1 ? { ppl_ci_low: 47.46, ppl_ci_high: 57.02, bits_per_byte_ci_low: 2.441, bits_per_byte_ci_high: 2.459, tokens_per_s_min: 1900, tokens_per_s_max: 2300 } : {}),
          // The eval's paired interval of sllm-h4's PPL over the token LM's (the same documents drawn for both).
          ...(layers === 4 ? { ppl_fingerprint: 'f00d', ppl_ratio: ppl / 45.3, ppl_ratio_ci_low: 1.02, ppl_ratio_ci_high: 1.09, ppl_ratio_baseline: 'token-lm' } : {}),
          ppl_tokens: 120_345,
          bits_per_byte: 2.4 + 0.05 * layers,
          tokens_per_s: speed,
          kv_bytes_per_token: 8192 / (2 + layers),
        },
      });
      if (layers === 1) {
        run.appendSample({ step: 100, prompt: PROMPTS[0]!, output: 'An early sample.', model: 'sllm' });
        run.appendSample({ step: 200, prompt: PROMPTS[0]!, output: 'The dog slept.', model: 'sllm' });
      }
    }
  }
  // The energy score with its 95% interval and its paired difference to sampling the training embeddings (a deterministic head's equals its L2);
  // the sampling heads' paired differences with the eval's baseline head (mse), two-tower's resolved, one-tower's energy score's not;
  // spread / skill: 0 for the deterministic head, the sampling heads' draws too alike (two-tower) and about as spread as the targets (one-tower).
  // By horizon (1 to 3 sentences ahead): each run's energy score minus the training distribution's; one-tower has none.
  const horizons = (...diffs: number[]) => Object.fromEntries(diffs.map((d, i) => [String(i + 1), { energy_score: 2 + d, train_dist: 2, diff_train_dist: d, targets: 40 }]));
  for (const [head, l2, acc, rt, es, esDiff, vsMse] of [
    ['mse', 0.82, 0.61, 0.9, 0.82, 0.31, { energy_score_ahead: 0.9, spread_ratio: 0, energy_score_by_horizon: horizons(0.31, 0.4, 0.45) }],
    ['two-tower', 0.71, 0.68, 0.79, 0.47, -0.04, { spread_ratio: 0.62, spread_ratio_ci_low: 0.58, spread_ratio_ci_high: 0.66, energy_score_diff: -0.35, energy_score_diff_ci_low: -0.4, energy_score_diff_ci_high: -0.3, energy_score_diff_baseline: 'mse', energy_score_ahead: 0.55, energy_score_ahead_diff: -0.35, energy_score_ahead_diff_ci_low: -0.41, energy_score_ahead_diff_ci_high: -0.29, energy_score_ahead_diff_baseline: 'mse', l2_diff: -0.11, l2_diff_ci_low: -0.15, l2_diff_ci_high: -0.07, l2_diff_baseline: 'mse', energy_score_by_horizon: horizons(-0.04, 0.02, 0.08) }],
    ['one-tower', 0.75, 0.66, 0.83, 0.49, -0.02, { spread_ratio: 0.93, spread_ratio_ci_low: 0.88, spread_ratio_ci_high: 0.99, energy_score_diff: -0.33, energy_score_diff_ci_low: -0.7, energy_score_diff_ci_high: 0.04, energy_score_diff_baseline: 'mse', l2_diff: 0.07, l2_diff_ci_low: 0.01, l2_diff_ci_high: 0.12, l2_diff_baseline: 'mse' }],
  ] as const) {
    train(root, {
      experiment: 'lcm',
      runId: head,
      config: { head: { kind: head, steps: 40 }, train: { lr: 0.0005 } },
      seed: 1,
      floor: 0.5,
      stage: `lcm-${head}`,
      // As `pnpm exp` writes them: LCM runs report their parameter count too.
      eval: { params: 250_000, l2, contrastive_acc: acc, roundtrip_l2: rt, energy_score: es, energy_score_ci_low: es - 0.02, energy_score_ci_high: es + 0.03, energy_score_diff_train_dist: esDiff, ...vsMse },
    });
  }
  const live = train(root, { experiment: 'paper', runId: 'sllm-h8-live', config: model('sllm', 8), seed: 1, floor: 3.4, stage: 'sllm', eval: {}, status: 'running' });

  mkdirSync(join(root, 'broken', 'half-written'), { recursive: true });
  const corrupt = createRun({ root, experiment: 'broken', runId: 'corrupt', config: {}, seed: 1, backend: 'cpu', git, machine });
  writeFileSync(join(corrupt.dir, 'meta.json'), '{"formatVersion": 1, "status": "do');

  const xss = train(root, {
    experiment: 'paper',
    runId: 'xss-tmp',
    config: { ...model('token-lm', 0), note: '<script>window.__xss=2</script>' },
    seed: 9,
    floor: 3.5,
    stage: 'token-lm',
    eval: { ppl: 60 },
  });
  xss.appendSample({ step: 200, prompt: PROMPTS[0]!, output: '<b>bold</b><img src=x onerror="window.__xss=3">', model: 'token-lm' });
  renameSync(xss.dir, join(root, 'paper', XSS_RUN));
  // The running run stays open (and locked) in this process: tests append to it through this writer.
  return { live };
}

const TEMPLATES = 60;

/**
 * `n` small finished runs (a sweep over lr x layers x seed) for the load-time test. The first
 * 60 are written by the runs writer; the rest are copies of them under new run ids (meta.json
 * rewritten), which keeps a 1,000-run fixture to a few seconds on a busy machine.
 */
export function writeManyRuns(root: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const experiment = `sweep${i % 10}`;
    const runId = `run-${String(i).padStart(4, '0')}`;
    if (i >= TEMPLATES) {
      const template = join(root, experiment, `run-${String(i % TEMPLATES).padStart(4, '0')}`);
      const dir = join(root, experiment, runId);
      mkdirSync(dir);
      for (const entry of readdirSync(template, { withFileTypes: true })) {
        if (entry.isDirectory()) mkdirSync(join(dir, entry.name));
        else copyFileSync(join(template, entry.name), join(dir, entry.name));
      }
      const meta = JSON.parse(readFileSync(join(dir, RUN_FILES.meta), 'utf8')) as Record<string, unknown>;
      writeJsonAtomic(join(dir, RUN_FILES.meta), { ...meta, runId });
      continue;
    }
    const run = createRun({
      root,
      experiment,
      runId,
      config: { model: { layers: 1 + (i % 4), dModel: 64 }, train: { lr: [1e-3, 3e-4, 1e-4][i % 3] }, seed: i % 5 },
      seed: i % 5,
      backend: 'wasm',
      git,
      machine,
      flushEveryRows: 1000,
    });
    for (let step = 0; step < 20; step++) run.logMetrics(step * 10, { loss: 4 - step * 0.1 + (i % 7) * 0.01 }, step);
    run.writeSummary({ ppl: 40 + (i % 13), params: 1e5 * (1 + (i % 4)) });
    run.setStatus('done');
  }
}
