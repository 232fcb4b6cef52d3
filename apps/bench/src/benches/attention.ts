/**
 * `pnpm bench attention [--sizes medium,large] [--reps 10] [--threads N]`
 *
 * One attention layer's core, forward and backward, at the train-step bench's shapes (q, k, v
 * [batch, heads, seq, dModel / heads], causal, scale 1 / sqrt(headDim)) on the native backend:
 *   fused      scaledDotProductAttention: SlAttention + SlAttentionGrad
 *   composite  scaledDotProductAttentionComposite: BatchMatMul, SlScaledMaskedSoftmax,
 *              BatchMatMul and their gradients (what MultiHeadAttention ran before the op)
 * The two take turns rep by rep; per system the best wall and process CPU ms of `--reps` calls of
 * the gradient of sum(w * out) with respect to q, k and v (which runs the forward too), and of the
 * forward alone, plus the kernels per call (tf.profile).
 */
import { loadavg } from 'node:os';
import { cpuUsage } from 'node:process';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, scaledDotProductAttention, scaledDotProductAttentionComposite } from '@sentencelab/tensor';
import { machineInfo, printTable, type BenchFigure, type BenchResult } from '../result.js';
import { sizes } from './train-step.js';
import { options } from '../options.js';

export const usage = `pnpm bench attention [options]
  Fused attention (scaledDotProductAttention) vs the composite it replaced, forward and
  backward, at the train-step sizes' shapes, on the native backend.
  --sizes LIST     train-step sizes, comma-separated (default medium,large)
  --reps N         timed calls per system, best kept (default 10)
  --threads N      native threads (default: all cores)`;

type SizeName = keyof typeof sizes;

interface Args {
  sizes: SizeName[];
  reps: number;
  threads: number | undefined;
}

export function parseArgs(args: string[]): Args {
  const out: Args = { sizes: ['medium', 'large'], reps: 10, threads: undefined };
  for (const o of options('attention', args)) {
    if (o.name === '--sizes') out.sizes = o.list(Object.keys(sizes) as SizeName[]);
    else if (o.name === '--reps') out.reps = o.count();
    else if (o.name === '--threads') out.threads = o.count();
    else o.unknown();
  }
  return out;
}

type Attention = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor;

/** Wall and process CPU ms of fn (its results disposed). */
function timed(fn: () => tf.Tensor | tf.Tensor[]): { ms: number; cpuMs: number } {
  const c0 = cpuUsage();
  const t0 = performance.now();
  tf.dispose(fn());
  const ms = performance.now() - t0;
  const c = cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

export async function run(argv: string[]): Promise<BenchResult> {
  const opts = parseArgs(argv);
  await initBackend('native', { log: false, ...(opts.threads === undefined ? {} : { threads: opts.threads }) });
  const results: BenchFigure[] = [];
  const rows: (string | number)[][] = [];
  const load0 = loadavg()[0]!;
  for (const size of opts.sizes) {
    const { batch, heads, seq, dModel } = sizes[size];
    const dim = dModel / heads;
    const shape = [batch, heads, seq, dim];
    const [q, k, v, w] = [1, 2, 3, 4].map((seed) => tf.randomNormal(shape, 0, 1, 'float32', seed));
    const o = { scale: 1 / Math.sqrt(dim), causal: true };
    const systems: Array<[string, Attention]> = [
      ['fused', (a, b, c) => scaledDotProductAttention(a, b, c, o)],
      ['composite', (a, b, c) => scaledDotProductAttentionComposite(a, b, c, o)],
    ];
    const grads = systems.map(([, f]) => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a, b, c), w!))));
    const best = systems.map(() => ({ step: { ms: Infinity, cpuMs: Infinity }, fwd: { ms: Infinity, cpuMs: Infinity } }));
    for (let rep = -1; rep < opts.reps; rep++) {
      systems.forEach(([, f], s) => {
        const step = timed(() => grads[s]!([q!, k!, v!]));
        const fwd = timed(() => f(q!, k!, v!));
        if (rep < 0) return; // warm-up
        const b = best[s]!;
        b.step = { ms: Math.min(b.step.ms, step.ms), cpuMs: Math.min(b.step.cpuMs, step.cpuMs) };
        b.fwd = { ms: Math.min(b.fwd.ms, fwd.ms), cpuMs: Math.min(b.fwd.cpuMs, fwd.cpuMs) };
      });
    }
    for (const [s, [name]] of systems.entries()) {
      const info = await tf.profile(() => grads[s]!([q!, k!, v!]));
      tf.dispose(info.result as tf.Tensor[]);
      const b = best[s]!;
      rows.push([size, shape.join('x'), name, b.step.ms, b.step.cpuMs, b.fwd.ms, b.fwd.cpuMs, info.kernels.length]);
      const put = (metric: string, value: number) => results.push({ system: `${name}/${size}`, metric, value: Math.round(value * 100) / 100 });
      put('fwd_bwd_ms', b.step.ms);
      put('fwd_bwd_cpu_ms', b.step.cpuMs);
      put('fwd_ms', b.fwd.ms);
      put('fwd_cpu_ms', b.fwd.cpuMs);
      put('kernels', info.kernels.length);
    }
    tf.dispose([q!, k!, v!, w!]);
  }
  printTable(['size', 'q, k, v', 'system', 'fwd+bwd ms', 'fwd+bwd cpu ms', 'fwd ms', 'fwd cpu ms', 'kernels'], rows);
  const load1 = loadavg()[0]!;
  console.log(`best of ${opts.reps} per system, taking turns; one layer's attention core (causal), gradients of q, k, v`);
  console.log(`machine load (1-min average): ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end, on ${machineInfo().cores} cores`);
  return { bench: 'attention', machine: machineInfo(), config: { sizes: opts.sizes, reps: opts.reps, threads: opts.threads ?? null, load_1m: [load0, load1] }, results };
}
