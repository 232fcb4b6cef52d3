/**
 * A tiny regression model and batch stream built from tensor's blocks, for the training-loop
 * tests and the Ctrl-C child process: Linear -> tanh -> Dropout -> Linear, MSE loss, batches
 * drawn at random (seeded) from a fixed synthetic dataset.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, Dropout, Linear, lrSchedule, Module, Rng, type RngState } from '@sentencelab/tensor';
import type { BatchStream, TrainLoopOptions } from '../loop.js';

export interface TinyBatch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

export class TinyModel extends Module {
  readonly rng: Rng;
  private readonly l1: Linear;
  private readonly drop: Dropout;
  private readonly l2: Linear;

  constructor(seed: number) {
    super();
    this.rng = new Rng(seed);
    this.l1 = this.addModule('l1', new Linear({ inFeatures: 4, outFeatures: 16, rng: this.rng }));
    this.drop = this.addModule('drop', new Dropout(0.1, this.rng));
    this.l2 = this.addModule('l2', new Linear({ inFeatures: 16, outFeatures: 1, rng: this.rng }));
  }

  // x: [batch, 4] -> [batch, 1]
  forward(x: tf.Tensor2D): tf.Tensor {
    return this.l2.forward(this.drop.forward(tf.tanh(this.l1.forward(x))));
  }

  loss(b: TinyBatch): tf.Scalar {
    return tf.tidy(() => tf.mean(tf.square(tf.sub(this.forward(b.x), b.y))) as tf.Scalar);
  }
}

/**
 * 64 fixed points y = sin(x·w); each batch is 8 of them drawn with the stream's own Rng (its
 * state is the position). `poisonAt` makes that batch's inputs NaN (1-based batch count);
 * `onBatch` runs before each batch is returned (tests abort or throw from it).
 */
export class TinyStream implements BatchStream<TinyBatch> {
  private readonly xs: Float32Array;
  private readonly ys: Float32Array;
  private rng: Rng;
  count = 0;

  constructor(
    seed: number,
    private readonly opts: { poisonAt?: number; onBatch?: (count: number) => void } = {},
  ) {
    const r = new Rng(1234);
    this.xs = new Float32Array(64 * 4).map(() => r.uniform() * 2 - 1);
    this.ys = new Float32Array(64).map((_, i) => Math.sin(this.xs[i * 4]! * 2 + this.xs[i * 4 + 1]! - this.xs[i * 4 + 3]!));
    this.rng = new Rng(seed + 1);
  }

  next(): TinyBatch {
    this.count += 1;
    this.opts.onBatch?.(this.count);
    const x = new Float32Array(8 * 4);
    const y = new Float32Array(8);
    for (let i = 0; i < 8; i++) {
      const j = this.rng.int(64);
      x.set(this.xs.subarray(j * 4, j * 4 + 4), i * 4);
      y[i] = this.ys[j]!;
    }
    if (this.opts.poisonAt === this.count) x.fill(NaN);
    return { x: tf.tensor2d(x, [8, 4]), y: tf.tensor2d(y, [8, 1]) };
  }

  position(): unknown {
    return { rng: this.rng.getState(), count: this.count };
  }

  seek(position: unknown): void {
    const p = position as { rng: RngState; count: number };
    this.rng = Rng.fromState(p.rng);
    this.count = p.count;
  }

  tokens(): number {
    return 8;
  }

  dispose(b: TinyBatch): void {
    tf.dispose([b.x, b.y]);
  }
}

/** Loop options for the tiny model (everything but the run and the cadence). */
export function tinySetup(
  seed: number,
  stream: TinyStream,
): Pick<TrainLoopOptions<TinyBatch>, 'model' | 'optimizer' | 'lrAt' | 'clipNorm' | 'batches' | 'rngs' | 'evaluate'> & { model: TinyModel } {
  const model = new TinyModel(seed);
  const optimizer = new AdamW(model.namedParameters(), { lr: 0.01, weightDecay: 0.01 });
  const val = new TinyStream(99);
  const valBatches = [val.next(), val.next()];
  return {
    model,
    optimizer,
    lrAt: lrSchedule({ kind: 'cosine', lr: 0.01, warmupSteps: 2, totalSteps: 1000, minLr: 0.001 }),
    clipNorm: 1,
    batches: stream,
    rngs: { model: model.rng },
    evaluate: async () => {
      let sum = 0;
      for (const b of valBatches) {
        const loss = model.loss(b);
        sum += (await loss.data())[0]!;
        loss.dispose();
      }
      return { loss: sum / valBatches.length };
    },
  };
}
