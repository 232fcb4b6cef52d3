/**
 * The generic training loop every training stage uses: one optimizer step per batch, periodic
 * evaluation and checkpoints, exact resume, Ctrl-C, NaN/Inf and failure handling.
 *
 * Exact resume: a checkpoint holds everything the next step depends on (parameters, optimizer
 * moments and step count, the RNG state, the batch stream's position, the step itself), and
 * the metrics logged after the checkpoint step are dropped on resume, so a resumed run logs
 * the same losses an uninterrupted one would, with no step missing or duplicated.
 */
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { RunWriter, Sample } from '@sentencelab/runs';
import { clipGradNorm, FlopCounter, globalNorm, valueAndGrads, type AdamW, type LossOutput, type Rng, type Schedule, type ValueAndGrads } from '@sentencelab/tensor';
import { CHECKPOINT_EXT, readResumeCheckpoint, writeTrainCheckpoint, type TrainCheckpoint } from './checkpoint.js';
import type { Progress } from './progress.js';
import { silentProgress } from './progress.js';
import { KernelTimer, SystemSampler } from './system-metrics.js';
import { TrainingDiverged, TrainingInterrupted } from './errors.js';

export { TrainingDiverged, TrainingInterrupted } from './errors.js';

/** What the loop trains: named parameters and a scalar loss of one batch. */
export interface Trainable<B> {
  /** Every parameter by its stable name (the checkpoint keys). */
  parameterMap(): Map<string, tf.Variable>;
  /**
   * Mean loss of one batch at a (0-based) step, built from tf ops so gradients flow; optionally
   * with metrics logged as `train/<name>` (e.g. a VAE's KL term): numbers, or scalars the loop
   * reads after the step together with the loss (one asynchronous read, no synchronous one).
   */
  loss(batch: B, step: number): LossOutput;
  /** Dropout on (train) or off (eval). */
  train(on?: boolean): unknown;
  /** Renames tensors saved before a layer was packed (Module.packLegacyParameters), so older run folders resume. */
  packLegacyParameters?(values: ReadonlyMap<string, tf.Tensor>): Map<string, tf.Tensor>;
}

/**
 * An endless, deterministic stream of batches whose position can be saved and restored:
 * after `seek(position())` the same batches follow.
 */
export interface BatchStream<B> {
  next(): B;
  position(): unknown;
  seek(position: unknown): void;
  /** Tokens in a batch (for tokens/s). */
  tokens(batch: B): number;
  /** Frees the batch's tensors, if it holds any. */
  dispose?(batch: B): void;
}

export interface TrainLoopOptions<B> {
  model: Trainable<B>;
  optimizer: AdamW;
  /** Learning rate of the step taken after `step` completed steps (tensor's `lrSchedule`). */
  lrAt: Schedule;
  /** Clip the global gradient norm to this (null: no clipping; the norm is still logged). */
  clipNorm: number | null;
  batches: BatchStream<B>;
  /** The generators the loss draws from (dropout, VAE noise, timesteps): the models' published `rngs`; their states travel with checkpoints. */
  rngs?: Readonly<Record<string, Rng>>;
  /** Validation metrics (names without prefix, e.g. `{ loss: 2.1 }`); called in eval mode. */
  evaluate?: (step: number) => Promise<Record<string, number>> | Record<string, number>;
  /**
   * Text samples (e.g. continuations of fixed prompts), called in eval mode right after
   * `evaluate` (every `evalEvery` steps and at the end); appended to the run's samples.jsonl.
   * Must not draw from the training RNG, so samples never change the losses.
   */
  samples?: (step: number) => Promise<Omit<Sample, 'step'>[]>;
  run: RunWriter;
  steps: number;
  evalEvery: number;
  checkpointEvery: number;
  keepCheckpoints: number;
  logEvery: number;
  /** Continue from the run's latest checkpoint (if it has one). */
  resume?: boolean;
  /** Ctrl-C: checkpoint the current step, mark the run interrupted, throw {@link TrainingInterrupted}. */
  signal?: AbortSignal;
  progress?: Progress;
  /** Prefix of metric names (`train/loss`, `val/loss` by default). */
  metricPrefix?: string;
  /**
   * Times the kernels of some logged steps, logged as `sys/gpu_kernel_ms`; default: on webgpu
   * with timestamp queries ({@link KernelTimer.forBackend}), null = never.
   */
  kernelTimer?: KernelTimer | null;
}

export interface TrainResult {
  /** Last completed step. */
  step: number;
  /** Last training loss and the last validation metrics. */
  loss: number;
  val: Record<string, number>;
  /** Mean training throughput of this process (tokens/s). */
  tokensPerS: number;
  /** Step the run started from (0, or the checkpoint resumed from). */
  startStep: number;
  /** Matrix-product FLOPs of all training steps, those before a resume included (tensor's FlopCounter); null when resumed from a checkpoint that did not count them. */
  flops: number | null;
}

/**
 * Trains `model` for `steps` optimizer steps, logging to `run`. On any exception the run is
 * marked failed (error in meta.json) and the exception rethrown. The run's status is left
 * `running` on success: the caller evaluates, writes the summary and marks it done.
 */
export async function trainLoop<B>(o: TrainLoopOptions<B>): Promise<TrainResult> {
  const { model, run } = o;
  const progress = o.progress ?? silentProgress;
  const prefix = o.metricPrefix ?? '';
  const named = [...model.parameterMap()];
  let step = 0;
  let resumedFlops: number | null = 0;
  let lastCheckpoint: number | undefined;
  try {
    if (o.resume) {
      const latest = readResumeCheckpoint(run, (line) => {
        console.warn(line);
        run.log(line);
      });
      if (latest) {
        const ck = latest.checkpoint;
        restore(o, ck, join(run.dir, 'checkpoints', latest.name));
        step = ck.step;
        // A checkpoint from before FLOPs were counted: the steps before it are unknown, so is the total.
        resumedFlops = ck.flops ?? null;
        lastCheckpoint = step;
        run.log(`resumed from ${latest.name}`);
      }
      run.truncateMetricsAfter(step);
      run.truncateSamplesAfter(step);
    }
    // Resumed at the last step (a fork of a finished run, or a stop after the last checkpoint):
    // when the final evaluation was logged, its figures are the run's (evaluating again would draw
    // other validation noise from the restored generators); else it runs, its samples not kept twice.
    let finalLogged: Record<string, number> | undefined;
    if (o.resume && step >= o.steps) {
      const at = Object.entries(run.metricsAt(step)).filter(([name]) => name.startsWith(`${prefix}val/`));
      if (o.evaluate && at.length > 0) finalLogged = Object.fromEntries(at.map(([name, v]) => [name.slice(`${prefix}val/`.length), v]));
      else run.truncateSamplesAfter(step - 1);
    }
    const startStep = step;
    // A resumed run goes on from its checkpoint's count: the steps redone after it count once, as uninterrupted.
    const flops = new FlopCounter(resumedFlops ?? 0);
    // The training's FLOPs so far, or null where the steps before a resumed checkpoint went uncounted.
    const countedFlops = (): number | null => (resumedFlops === null ? null : flops.flops);
    let loss = NaN;
    let val: Record<string, number> = {};
    let tokens = 0;
    const t0 = performance.now();
    const system = new SystemSampler();
    const kernelTimer = o.kernelTimer === undefined ? KernelTimer.forBackend() : (o.kernelTimer ?? undefined);
    const checkpoint = async (): Promise<void> => {
      if (lastCheckpoint === step) return;
      await saveCheckpoint(o, step, countedFlops() ?? undefined);
      lastCheckpoint = step;
    };
    const evaluate = async (): Promise<void> => {
      if (!o.evaluate && !o.samples) return;
      model.train(false);
      let samples: Omit<Sample, 'step'>[] = [];
      try {
        if (o.evaluate) val = await o.evaluate(step);
        if (o.samples) samples = await o.samples(step);
      } finally {
        model.train(true);
      }
      for (const sample of samples) run.appendSample({ step, ...sample });
      if (!o.evaluate) return;
      run.logMetrics(step, Object.fromEntries(Object.entries(val).map(([k, v]) => [`${prefix}val/${k}`, v])));
      progress.note(`step ${step}: ${Object.entries(val).map(([k, v]) => `val ${k} ${v.toFixed(4)}`).join(', ')}`);
    };

    model.train(true);
    progress.start(o.steps, step);
    try {
      while (step < o.steps) {
        // Let signal handlers run: the steps' awaits resolve as microtasks, which never yield to them.
        await new Promise((r) => setImmediate(r));
        if (o.signal?.aborted) {
          await checkpoint();
          run.setStatus('interrupted');
          throw new TrainingInterrupted(run.dir, step);
        }
        const tStep = performance.now();
        // The step's training FLOPs: making its batch and its forward and backward products (not evaluation's).
        const flopsBefore = flops.flops;
        flops.start();
        const batch = o.batches.next();
        const next = step + 1;
        const lr = o.lrAt(step);
        const logged = next % o.logEvery === 0 || next === o.steps;
        // Forward, backward, clipping and the update; a non-finite loss or norm skips the update.
        const compute = async (): Promise<{ out: ValueAndGrads; gradNorm: number }> => {
          let out: ValueAndGrads;
          try {
            // Trainable parameters only: a frozen part (an SLLM's SentenceVAE with freezeSvae) gets no gradient.
            out = await valueAndGrads(named, () => model.loss(batch, step));
          } finally {
            o.batches.dispose?.(batch);
          }
          if (!Number.isFinite(out.loss)) return { out, gradNorm: NaN };
          const gradNorm = o.clipNorm === null ? await globalNorm(out.grads) : await clipGradNorm(out.grads, o.clipNorm);
          if (Number.isFinite(gradNorm)) o.optimizer.applyGradients(out.grads, lr);
          return { out, gradNorm };
        };
        let kernelMs: number | undefined;
        let computed: { out: ValueAndGrads; gradNorm: number };
        try {
          if (logged && kernelTimer?.due(next)) ({ result: computed, kernelMs } = await kernelTimer.time(next, compute));
          else computed = await compute();
        } finally {
          flops.stop();
        }
        const { out, gradNorm } = computed;
        const { grads, metrics } = out;
        tf.dispose([...grads.values()]);
        loss = out.loss;
        if (!Number.isFinite(loss)) {
          run.logMetrics(next, { [`${prefix}train/loss`]: loss });
          const err = new TrainingDiverged(run.dir, next, loss, lastCheckpoint);
          run.log(err.message);
          run.setStatus('failed', err);
          throw err;
        }
        if (!Number.isFinite(gradNorm)) {
          const err = new TrainingDiverged(run.dir, next, loss, lastCheckpoint, `the gradient norm is ${gradNorm}`);
          run.log(err.message);
          run.setStatus('failed', err);
          throw err;
        }
        step = next;
        const n = o.batches.tokens(batch);
        tokens += n;
        const stepS = (performance.now() - tStep) / 1000;
        const tokensPerS = n / Math.max(stepS, 1e-9);
        if (logged) {
          run.logMetrics(step, {
            [`${prefix}train/loss`]: loss,
            [`${prefix}train/lr`]: lr,
            [`${prefix}train/grad_norm`]: gradNorm,
            [`${prefix}train/tokens_per_s`]: tokensPerS,
            // What the backend makes of the step's products: comparable across models (an SLLM's smaller products run slower per FLOP).
            [`${prefix}train/gflop_per_s`]: (flops.flops - flopsBefore) / Math.max(stepS, 1e-9) / 1e9,
            ...Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`${prefix}train/${k}`, v])),
            ...system.sample(prefix),
            ...(kernelMs !== undefined ? { [`${prefix}sys/gpu_kernel_ms`]: kernelMs } : {}),
          });
        }
        progress.update({ step, loss, tokensPerS });
        if (o.evalEvery > 0 && step % o.evalEvery === 0 && step < o.steps) await evaluate();
        if (o.checkpointEvery > 0 && step % o.checkpointEvery === 0) await checkpoint();
      }
    } finally {
      progress.stop();
      // Started before a step's batch: stopped here too when making the batch threw.
      flops.stop();
    }
    if (finalLogged) val = finalLogged;
    else await evaluate();
    await checkpoint();
    const seconds = (performance.now() - t0) / 1000;
    const trainingFlops = countedFlops();
    if (trainingFlops !== null) run.setTrainingFlops(trainingFlops);
    return { step, loss, val, tokensPerS: seconds > 0 ? tokens / seconds : 0, startStep, flops: trainingFlops };
  } catch (e) {
    if (!(e instanceof TrainingInterrupted) && !(e instanceof TrainingDiverged)) run.fail(e);
    throw e;
  }
}

async function saveCheckpoint<B>(o: TrainLoopOptions<B>, step: number, flops: number | undefined): Promise<void> {
  const file = `${o.run.checkpointPath(step)}${CHECKPOINT_EXT}`;
  await writeTrainCheckpoint(file, { params: o.model.parameterMap(), optimizer: o.optimizer, step, data: o.batches.position(), rngs: o.rngs ?? {}, flops });
  o.run.setLatestCheckpoint(basename(file));
  o.run.pruneCheckpoints(o.keepCheckpoints);
}

function restore<B>(o: TrainLoopOptions<B>, ck: TrainCheckpoint, file: string): void {
  // tensors saved before a layer was packed are packed like it (the tidy frees the concatenations)
  tf.tidy(() => {
    const pack = (values: Map<string, tf.Tensor>) => o.model.packLegacyParameters?.(values) ?? values;
    const params = pack(ck.params);
    for (const [name, v] of o.model.parameterMap()) {
      const t = params.get(name);
      if (!t) throw new Error(`checkpoint has no parameter "${name}" (the model changed since it was written)`);
      if (!tf.util.arraysEqual(t.shape, v.shape)) throw new Error(`checkpoint parameter "${name}" has shape [${t.shape}], the model expects [${v.shape}]`);
      v.assign(t);
    }
    o.optimizer.setState({ ...ck.optimizer, m: pack(ck.optimizer.m), v: pack(ck.optimizer.v) });
  });
  tf.dispose([ck.params, ck.optimizer.m, ck.optimizer.v].flatMap((m) => [...m.values()]));
  o.batches.seek(ck.data);
  for (const [name, rng] of Object.entries(o.rngs ?? {})) {
    const state = ck.rngs[name];
    if (state === undefined) throw new Error(`checkpoint ${file}: has no RNG state "${name}" (saved: ${Object.keys(ck.rngs).join(', ') || 'none'})`);
    rng.setState(state);
  }
}
