import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createRun, openRunForResume, readMeta, readMetrics, type RunWriter } from '@sentencelab/runs';
import { SLLM, type SllmBatch } from '@sentencelab/latent-lm';
import { AdamW, initBackend, lrSchedule } from '@sentencelab/tensor';
import { legacyAttentionLayout } from '@sentencelab/tensor/testing';
import { beforeAll, describe, expect, test } from 'vitest';
import { readTrainCheckpoint, writeTrainCheckpoint } from './checkpoint.js';
import { trainLoop, TrainingDiverged, TrainingInterrupted, type TrainLoopOptions } from './loop.js';
import { KernelTimer } from './system-metrics.js';
import { TinyStream, tinySetup, type TinyBatch } from './testing/tiny.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

function newRun(root: string, runId: string): RunWriter {
  return createRun({ root, experiment: 'loop', runId, config: { tiny: true }, seed: 7, backend: 'cpu', flushIntervalMs: 0 });
}

const cadence = { steps: 12, evalEvery: 5, checkpointEvery: 3, keepCheckpoints: 2, logEvery: 1 };

function options(run: RunWriter, stream: TinyStream, extra: Partial<TrainLoopOptions<TinyBatch>> = {}): TrainLoopOptions<TinyBatch> {
  return { ...tinySetup(7, stream), run, ...cadence, ...extra };
}

/** step -> value of one metric, failing on a duplicated step. */
async function series(dir: string, name: string): Promise<Map<number, number>> {
  const m = await readMetrics(dir);
  const s = m.series[name];
  if (!s) throw new Error(`no metric ${name}`);
  const out = new Map<number, number>();
  s.step.forEach((step, i) => {
    if (out.has(step)) throw new Error(`${name} logged twice at step ${step}`);
    out.set(step, s.value[i]!);
  });
  return out;
}

async function params(o: TrainLoopOptions<TinyBatch>): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [k, v] of o.model.parameterMap()) out[k] = Array.from(await v.data());
  return out;
}

describe('trainLoop', () => {
  const root = mkdtempSync(join(tmpdir(), 'exp-loop-'));
  let reference: Map<number, number>;
  let referenceParams: Record<string, number[]>;

  beforeAll(async () => {
    const run = newRun(root, 'reference');
    const o = options(run, new TinyStream(7));
    const result = await trainLoop(o);
    expect(result.step).toBe(12);
    // Per step, batch 8: l1 (4 -> 16) x W and the gradient of W (x is data: no dx), l2 (16 -> 1) x W, dW and dx; evaluation's products do not count.
    expect(result.flops).toBe(12 * (2 * (2 * 8 * 4 * 16) + 3 * (2 * 8 * 16 * 1)));
    expect(run.trainingFlops()).toBe(result.flops);
    reference = await series(run.dir, 'train/loss');
    referenceParams = await params(o);
  });

  test('logs one train loss per step, evaluates, and keeps the last N checkpoints with a latest pointer', async () => {
    expect([...reference.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect([...reference.values()].every(Number.isFinite)).toBe(true);
    const dir = join(root, 'loop', 'reference');
    expect([...(await series(dir, 'val/loss')).keys()]).toEqual([5, 10, 12]);
    expect(readdirSync(join(dir, 'checkpoints')).sort()).toEqual(['latest', 'step-00000009.safetensors', 'step-00000012.safetensors']);
    const ck = readTrainCheckpoint(join(dir, 'checkpoints', 'step-00000012.safetensors'));
    expect(ck.step).toBe(12);
    expect(ck.optimizer.step).toBe(12);
    expect(ck.flops).toBe(12 * 2816);
    expect(Array.from(ck.params.get('l1.weight')!.dataSync())).toEqual(referenceParams['l1.weight']);
    tf.dispose([...ck.params.values(), ...ck.optimizer.m.values(), ...ck.optimizer.v.values()]);
  });

  test('logs each step\'s GFLOP/s: its counted FLOPs over its wall time', async () => {
    const dir = join(root, 'loop', 'reference');
    const m = await readMetrics(dir);
    const gflops = m.series['train/gflop_per_s']!;
    const tokensPerS = m.series['train/tokens_per_s']!;
    expect(Array.from(gflops.step)).toEqual([...reference.keys()]);
    // The same step time divides both: FLOPs per token (2,816 per step of 8 tokens) links them.
    gflops.value.forEach((v, i) => expect(v * 1e9).toBeCloseTo((tokensPerS.value[i]! / 8) * 2816, 0));
  });

  test('logs system metrics (CPU %, RSS, heap) at every logged step, with plausible values', async () => {
    const dir = join(root, 'loop', 'reference');
    const cpu = await series(dir, 'sys/cpu_pct');
    const rss = await series(dir, 'sys/rss_mb');
    const heap = await series(dir, 'sys/heap_mb');
    for (const s of [cpu, rss, heap]) expect([...s.keys()]).toEqual([...reference.keys()]);
    // A training step keeps the process busy (in percent, not a fraction: > 1 even on a loaded
    // shared machine), on a few threads at most.
    expect([...cpu.values()].every((v) => v >= 0 && v < 100 * 64)).toBe(true);
    expect(Math.max(...cpu.values())).toBeGreaterThan(1);
    // Node alone needs tens of MB resident; the heap is part of the RSS.
    for (const [step, v] of rss) {
      expect(v).toBeGreaterThan(20);
      expect(v).toBeLessThan(64_000);
      expect(heap.get(step)!).toBeGreaterThan(1);
      expect(heap.get(step)!).toBeLessThan(v);
    }
    // GPU kernel time is logged on webgpu with timestamp queries only.
    expect((await readMetrics(dir)).series['sys/gpu_kernel_ms']).toBeUndefined();
  });

  test('a kernel timer logs the kernel ms of one logged step in `every`, without changing the losses', async () => {
    const run = newRun(root, 'timed');
    await trainLoop(options(run, new TinyStream(7), { kernelTimer: new KernelTimer(5) }));
    expect(await series(run.dir, 'train/loss')).toEqual(reference);
    const kernelMs = await series(run.dir, 'sys/gpu_kernel_ms');
    expect([...kernelMs.keys()]).toEqual([1, 6, 11]);
    // On the cpu backend tf.profile times each kernel by the wall clock: > 0, below the whole run's time.
    for (const v of kernelMs.values()) expect(v > 0 && v < 60_000).toBe(true);
    expect(tf.engine().state.profiling).toBe(false);
  });

  test('a kernel timer whose step throws leaves the engine out of profiling mode', async () => {
    const timer = new KernelTimer(1);
    await expect(timer.time(1, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(tf.engine().state.profiling).toBe(false);
    const { result, kernelMs } = await timer.time(2, async () => {
      const x = tf.ones([64, 64]);
      const y = tf.matMul(x, x);
      const v = (await y.data())[0];
      tf.dispose([x, y]);
      return v;
    });
    expect(result).toBe(64);
    expect(kernelMs).toBeGreaterThan(0);
  });

  test('Ctrl-C (abort) checkpoints the current step and marks the run interrupted; resume continues with the same losses', async () => {
    const run = newRun(root, 'interrupted');
    const controller = new AbortController();
    const stream = new TinyStream(7, { onBatch: (n) => n === 7 && controller.abort() });
    const err = await trainLoop(options(run, stream, { signal: controller.signal })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingInterrupted);
    expect((err as TrainingInterrupted).step).toBe(7);
    expect((await readMeta(run.dir)).status).toBe('interrupted');
    expect(run.latestCheckpoint()?.step).toBe(7);

    const resumed = openRunForResume(run.dir, { flushIntervalMs: 0 });
    const o = options(resumed, new TinyStream(7), { resume: true });
    const result = await trainLoop(o);
    expect(result.startStep).toBe(7);
    expect(await series(run.dir, 'train/loss')).toEqual(reference);
    expect(await params(o)).toEqual(referenceParams);
    // The FLOPs go on from the checkpoint's: those of an uninterrupted run, in meta.json once done.
    expect(result.flops).toBe(12 * 2816);
    resumed.setStatus('done');
    expect((await readMeta(run.dir)).resources?.trainingFlops).toBe(12 * 2816);
  });

  test('an exception marks the run failed with the error; resume drops the metrics after the checkpoint and matches exactly', async () => {
    const run = newRun(root, 'crashed');
    const stream = new TinyStream(7, {
      onBatch: (n) => {
        if (n === 8) throw new Error('disk on fire');
      },
    });
    await expect(trainLoop(options(run, stream))).rejects.toThrow('disk on fire');
    const meta = await readMeta(run.dir);
    expect(meta.status).toBe('failed');
    expect(meta.error?.message).toBe('disk on fire');
    expect(meta.error?.stack).toContain('disk on fire');
    expect(run.latestCheckpoint()?.step).toBe(6);
    expect([...(await series(run.dir, 'train/loss')).keys()]).toEqual([1, 2, 3, 4, 5, 6, 7]);

    const o = options(openRunForResume(run.dir, { flushIntervalMs: 0 }), new TinyStream(7), { resume: true });
    await trainLoop(o);
    expect(await series(run.dir, 'train/loss')).toEqual(reference);
    expect(await params(o)).toEqual(referenceParams);
  });

  test('a process killed between writing a checkpoint and moving latest loses no metric: they are on disk before the checkpoint', async () => {
    // Metrics buffered (no time-based flush), and the process "dies" as `latest` is about to move:
    // nothing after that runs (no failure status, which would flush).
    const run = createRun({ root, experiment: 'loop', runId: 'killed-at-checkpoint', config: { tiny: true }, seed: 7, backend: 'cpu', flushIntervalMs: 3_600_000 });
    const killed = new Error('SIGKILL');
    run.setLatestCheckpoint = () => {
      throw killed;
    };
    run.fail = () => {};
    run.setStatus = () => {};
    await expect(trainLoop(options(run, new TinyStream(7)))).rejects.toBe(killed);
    // The checkpoint of step 3 is on disk without `latest`: a resume starts from it, after steps 1-3.
    expect(readdirSync(join(run.dir, 'checkpoints'))).toEqual(['step-00000003.safetensors']);
    expect([...(await series(run.dir, 'train/loss')).keys()]).toEqual([1, 2, 3]);
    run.close();
    const o = options(openRunForResume(run.dir, { flushIntervalMs: 0 }), new TinyStream(7), { resume: true });
    await trainLoop(o);
    expect(await series(run.dir, 'train/loss')).toEqual(reference);
  });

  test('a NaN loss stops the run with a clear message and keeps the last good checkpoint', async () => {
    const run = newRun(root, 'nan');
    const o = options(run, new TinyStream(7, { poisonAt: 5 }), { checkpointEvery: 2 });
    const err = await trainLoop(o).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDiverged);
    expect((err as Error).message).toMatch(/^the loss is NaN at step 5: training stopped\. The last good checkpoint \(step 4\) is kept/);
    const meta = await readMeta(run.dir);
    expect(meta.status).toBe('failed');
    expect(meta.error?.message).toContain('the loss is NaN at step 5');
    expect(run.latestCheckpoint()?.step).toBe(4);
    // The bad step was not applied: the model still holds exactly the step-4 weights.
    const ck = readTrainCheckpoint(run.latestCheckpoint()!.path);
    for (const [k, v] of o.model.parameterMap()) expect(Array.from(ck.params.get(k)!.dataSync())).toEqual(Array.from(v.dataSync()));
    expect((await series(run.dir, 'train/loss')).get(4)).toBe(reference.get(4));
  });

  test('training does not leak tensors across steps', async () => {
    const run = newRun(root, 'leak');
    const o = options(run, new TinyStream(7), { steps: 3, evalEvery: 0, checkpointEvery: 0 });
    await trainLoop({ ...o, steps: 2 });
    const before = tf.memory().numTensors;
    await trainLoop({ ...o, steps: 6, resume: false });
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** An SLLM small enough to train a few steps in a test (vocabulary 12, d 16, one layer each). */
function tinySllm(freezeSvae: boolean): SLLM {
  return new SLLM({
    svae: { vocabSize: 12, dModel: 16, maxTokens: 6, encoder: { layers: 1, heads: 2, dropout: 0 }, decoder: { layers: 1, heads: 2, dropout: 0 }, seed: 1 },
    decoder: { dModel: 16, layers: 1, heads: 2, maxLen: 4 },
    freezeSvae,
    seed: 2,
  });
}

describe('Ctrl-C in a real process', () => {
  test('SIGINT saves a checkpoint, marks the run interrupted and exits 130; resume then matches an uninterrupted run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'exp-sigint-'));
    const steps = 30;
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(__dirname, 'testing', 'sigint-child.ts'), root, String(steps)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let sent = false;
    child.stdout.on('data', (c: Buffer) => {
      if (!sent && /step 3\n/.test(c.toString())) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).toContain('interrupted at step');
    expect(code).toBe(130);
    const dir = join(root, 'loop', 'sigint');
    expect((await readMeta(dir)).status).toBe('interrupted');
    const stopped = openRunForResume(dir, { flushIntervalMs: 0 });
    const at = stopped.latestCheckpoint()!.step;
    expect(at).toBeGreaterThanOrEqual(3);
    expect(at).toBeLessThan(steps);

    const o = options(stopped, new TinyStream(7), { steps, resume: true, evalEvery: 5, checkpointEvery: 3 });
    await trainLoop(o);
    const reference = newRun(root, 'reference');
    const ro = options(reference, new TinyStream(7), { steps, evalEvery: 5, checkpointEvery: 3 });
    await trainLoop(ro);
    expect(await series(dir, 'train/loss')).toEqual(await series(reference.dir, 'train/loss'));
    expect(await params(o)).toEqual(await params(ro));
  }, 60_000);

  test('a run folder checkpointed before attention packed q, k and v (separate layers) resumes with the same losses', async () => {
    const root = mkdtempSync(join(tmpdir(), 'exp-loop-legacy-'));
    const tokens = new Int32Array(2 * 3 * 6).map((_, i) => 3 + (i % 9));
    const batch: SllmBatch = { tokens, lengths: new Int32Array(6).fill(4), shape: [2, 3, 6], windowStart: [0, 0], docSentences: [3, 3] };
    const train = async (run: RunWriter, model: SLLM, steps: number, resume: boolean) => {
      const optimizer = new AdamW(model.namedParameters(), { lr: 1e-2 });
      const result = await trainLoop({
        model: { parameterMap: () => model.parameterMap(), train: (on) => model.train(on), loss: (b: SllmBatch) => model.loss(b), packLegacyParameters: (v) => model.packLegacyParameters(v) },
        optimizer,
        lrAt: lrSchedule({ kind: 'constant', lr: 1e-2, warmupSteps: 0, totalSteps: 4 }),
        clipNorm: 1,
        batches: { next: () => batch, position: () => 0, seek: () => {}, tokens: () => 24 },
        run,
        steps,
        evalEvery: 0,
        checkpointEvery: 2,
        keepCheckpoints: 1,
        logEvery: 1,
        resume,
      });
      optimizer.dispose();
      return result;
    };
    const reference = newRun(root, 'reference');
    await train(reference, tinySllm(false), 4, false);
    const first = newRun(root, 'legacy');
    await train(first, tinySllm(false), 2, false);
    first.close(); // as a process that stopped after step 2
    // Rewrite its checkpoint as the code before the packing wrote it: qkv -> q, k, v; kv -> k, v.
    const file = first.latestCheckpoint()!.path;
    const ck = readTrainCheckpoint(file);
    const params = legacyAttentionLayout(ck.params);
    expect([...params.keys()]).toEqual(expect.arrayContaining(['svae.encoder.transformer.layers.0.attn.q.weight', 'svae.decoder.transformer.layers.0.crossAttn.v.bias']));
    const optimizer = new AdamW([...params], { lr: 1e-2 });
    optimizer.setState({ step: ck.optimizer.step, m: legacyAttentionLayout(ck.optimizer.m), v: legacyAttentionLayout(ck.optimizer.v) });
    // ... which did not count FLOPs either.
    await writeTrainCheckpoint(file, { params, optimizer, step: ck.step, data: ck.data, rngs: {}, flops: undefined });
    expect([...readTrainCheckpoint(file).params.keys()]).toContain('decoder.transformer.layers.0.attn.k.weight');

    const resumed = openRunForResume(first.dir, { flushIntervalMs: 0 });
    const result = await train(resumed, tinySllm(false), 4, true);
    expect(await series(first.dir, 'train/loss')).toEqual(await series(reference.dir, 'train/loss'));
    // The first two steps' FLOPs are unknown: none are recorded rather than half of them.
    expect(result.flops).toBeNull();
    expect(resumed.trainingFlops()).toBeUndefined();
  });

  test('an SLLM with a frozen SentenceVAE (freezeSvae) trains through the loop: only the decoder and stop head change', async () => {
    const model = tinySllm(true);
    // Two documents as one [B=2, S=3, L=6] batch.
    const docs = [
      [[5, 6, 7], [8, 9], [10, 5, 11]],
      [[9, 8], [7, 6, 5, 4], [11, 3]],
    ];
    const tokens = new Int32Array(2 * 3 * 6);
    const lengths = new Int32Array(2 * 3);
    docs.forEach((d, b) => d.forEach((sentence, i) => (tokens.set(sentence, (b * 3 + i) * 6), (lengths[b * 3 + i] = sentence.length))));
    const batch: SllmBatch = { tokens, lengths, shape: [2, 3, 6], windowStart: [0, 0], docSentences: [3, 3] };
    const before = new Map([...model.parameterMap()].map(([k, v]) => [k, Array.from(v.dataSync())]));
    const optimizer = new AdamW(model.namedParameters().filter(([, v]) => v.trainable), { lr: 1e-2 });
    const run = newRun(mkdtempSync(join(tmpdir(), 'exp-loop-sllm-')), 'sllm-frozen');
    try {
      const result = await trainLoop({
        model: { parameterMap: () => model.parameterMap(), train: (on) => model.train(on), loss: (b: SllmBatch) => model.loss(b) },
        optimizer,
        lrAt: lrSchedule({ kind: 'constant', lr: 1e-2, warmupSteps: 0, totalSteps: 3 }),
        clipNorm: 1,
        batches: { next: () => batch, position: () => 0, seek: () => {}, tokens: () => 19 },
        run,
        steps: 3,
        evalEvery: 0,
        checkpointEvery: 0,
        keepCheckpoints: 1,
        logEvery: 1,
      });
      expect(Number.isFinite(result.loss)).toBe(true);
      const norms = await series(run.dir, 'train/grad_norm');
      expect([...norms.values()].every((n) => Number.isFinite(n) && n > 0)).toBe(true);
      const changed = [...model.parameterMap()].filter(([k, v]) => Array.from(v.dataSync()).some((x, i) => x !== before.get(k)![i])).map(([k]) => k);
      expect(changed.length).toBeGreaterThan(0);
      expect(changed.some((k) => k.startsWith('svae.'))).toBe(false);
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  });
});

