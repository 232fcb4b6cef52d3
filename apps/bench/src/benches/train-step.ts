/**
 * `pnpm bench train-step [--backends native,wasm,cpu,webgpu] [--steps N] [--cpu-steps N] [--size tiny|medium|large]
 *   [--no-torch] [--torch-device cpu|cuda|auto] [--python /usr/bin/python3]`
 *
 * One training step (forward, backward, AdamW) of a small GPT built from @sentencelab/tensor
 * blocks, on every requested backend, median ms/step; plus the same model in PyTorch
 * (train_step_torch.py, fp32 eager, on `--torch-device`) when `<python> -c "import torch"` works,
 * with the ratio. `kernels/step` counts the tfjs kernels of one extra, untimed step (tf.profile),
 * and `kernel ms/step` sums their times (GPU time on webgpu: wall minus it is host overhead);
 * the costliest kernels go to stderr. On webgpu `issue ms/step` is the main thread's time to issue
 * a step (forward, backward, AdamW recorded) before it waits for the loss: near ms/step, the step
 * is bound by the host; far below, by the device.
 * The step reads its loss with `await data()` after the update, so each timed step has finished
 * on the device (webgpu in Node has no synchronous reads).
 * Also reports process CPU ms per step (`cpu_ms_per_step`), steadier than wall time on a
 * shared machine (torch's counts both of its threads).
 * Effective training GFLOP/s: the FLOPs of one step, counted (tensor's FlopCounter: the matrix
 * products of the forward and backward, = 6 x matrix weights x tokens + the attention products
 * for this model), over ms/step, against the machine's GEMM peak measured in the same run (the best of a
 * 1024^3 product on native and in torch/OpenBLAS). Peak RSS: the process's VmHWM over the timed
 * steps, reset just before them (Linux /proc/self/clear_refs), for tfjs backends and torch alike.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  AdamW, Embedding, LearnedPositionalEmbedding, Linear, Module, Rng, TransformerStack,
  crossEntropy, FlopCounter, initBackend, variableGrads, type BackendChoice,
} from '@sentencelab/tensor';
import { machineInfo, median, printTable, type BenchFigure, type BenchResult } from '../result.js';
import { gemmGflops } from './kernels.js';
import { options } from '../options.js';

export const sizes = {
  tiny: { vocab: 512, dModel: 256, seq: 128, batch: 8, layers: 2, heads: 4 },
  // What the small-scale experiments train (SentenceVAE / SLLM at d 256).
  medium: { vocab: 4096, dModel: 256, seq: 64, batch: 32, layers: 4, heads: 4 },
  large: { vocab: 4096, dModel: 512, seq: 256, batch: 32, layers: 4, heads: 8 },
} as const satisfies Record<string, GptSize>;
export interface GptSize {
  vocab: number;
  dModel: number;
  seq: number;
  batch: number;
  layers: number;
  heads: number;
}

/** GPT-2 style: token + learned positions, pre-norm blocks (LayerNorm, GELU MLP 4x), final norm, untied head. */
export class BenchGPT extends Module {
  readonly tok: Embedding;
  readonly pos: LearnedPositionalEmbedding;
  readonly blocks: TransformerStack;
  readonly head: Linear;

  constructor(c: GptSize, rng: Rng) {
    super();
    this.tok = this.addModule('tok', new Embedding({ numEmbeddings: c.vocab, dim: c.dModel, rng }));
    this.pos = this.addModule('pos', new LearnedPositionalEmbedding({ maxLen: c.seq, dim: c.dModel, rng }));
    this.blocks = this.addModule('blocks', new TransformerStack({ numLayers: c.layers, dModel: c.dModel, numHeads: c.heads, rng }));
    this.head = this.addModule('head', new Linear({ inFeatures: c.dModel, outFeatures: c.vocab, bias: false, rng }));
  }

  // ids: int32 [batch, seq] -> logits [batch, seq, vocab]
  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const x = tf.add(this.tok.forward(ids), this.pos.forward(ids.shape[1]!));
      return this.head.forward(this.blocks.forward(x, { causal: true }));
    });
  }
}

/** Resets the process's peak RSS (VmHWM) to its current RSS; false where Linux does not allow it. */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The process's peak RSS in MB since the last reset (VmHWM), or undefined without /proc. */
export function peakRssMb(): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

export type TorchDevice = 'cpu' | 'cuda' | 'auto';

export interface TrainStepArgs {
  backends: string[] | undefined;
  steps: number;
  cpuSteps: number;
  size: keyof typeof sizes;
  torch: boolean;
  /** Where the PyTorch reference runs; `auto` = cuda when torch sees a GPU, else cpu. */
  torchDevice: TorchDevice;
  /** The Python that has torch (default /usr/bin/python3). */
  python: string;
  /** Extra webgpu rows, each with these tfjs flags set (e.g. WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64). */
  webgpuVariants: Array<Record<string, string>>;
}

export const usage = `pnpm bench train-step [options]
  One GPT training step (forward, backward, AdamW) per backend beside the same model in PyTorch.
  --backends LIST       tfjs backends, comma-separated: native, wasm, cpu, webgpu (default native,wasm,cpu)
  --size NAME           tiny, medium or large (default tiny)
  --steps N             timed steps per backend after 1 warm-up, median kept (default 5)
  --cpu-steps N         timed steps on the slow tfjs cpu backend (default 1, no warm-up)
  --no-torch            skip PyTorch
  --torch-device NAME   cpu, cuda or auto (default cpu)
  --python PATH         the python that has torch (default /usr/bin/python3)
  --webgpu-flags LIST   extra webgpu rows, ';'-separated, each a ','-separated list of tfjs flags,
                        e.g. 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64;WEBGPU_CPU_FORWARD=false'
  On cuda, PyTorch runs twice: fp32 (TF32 off; the ratios) and with TF32 matmuls (torch-cuda-tf32).`;

export function parseArgs(args: string[]): TrainStepArgs {
  const out: TrainStepArgs = { backends: undefined, steps: 5, cpuSteps: 1, size: 'tiny', torch: true, torchDevice: 'cpu', python: '/usr/bin/python3', webgpuVariants: [] };
  for (const o of options('train-step', args)) {
    const a = o.name;
    if (a === '--backends') {
      const list = o.value().split(',').filter((b) => b !== '');
      if (list.length === 0) throw new Error('train-step: --backends needs at least one backend name');
      out.backends = list;
    } else if (a === '--steps') out.steps = o.count();
    else if (a === '--cpu-steps') out.cpuSteps = o.count();
    else if (a === '--size') {
      const s = o.value();
      if (s !== 'tiny' && s !== 'medium' && s !== 'large') throw new Error(`train-step: --size must be tiny, medium or large, got "${s}"`);
      out.size = s;
    } else if (a === '--no-torch') out.torch = false;
    else if (a === '--torch-device') {
      const d = o.value();
      if (d !== 'cpu' && d !== 'cuda' && d !== 'auto') throw new Error(`train-step: --torch-device must be cpu, cuda or auto, got "${d}"`);
      out.torchDevice = d;
    } else if (a === '--python') out.python = o.value();
    else if (a === '--webgpu-flags') out.webgpuVariants = parseFlagVariants(o.value());
    else o.unknown();
  }
  return out;
}

/** Names of webgpu flags: tfjs-webgpu's WEBGPU_*, this repo's SL_WEBGPU_* (the matmul choice). */
const WEBGPU_FLAG = /^(?:SL_)?WEBGPU_[A-Z0-9_]+$/;

/** `A=1,B=x;C=2` -> [{A: '1', B: 'x'}, {C: '2'}]; names must be {@link WEBGPU_FLAG}s. */
export function parseFlagVariants(text: string): Array<Record<string, string>> {
  return text
    .split(';')
    .filter((v) => v.trim() !== '')
    .map((variant) => {
      const flags: Record<string, string> = {};
      for (const pair of variant.split(',')) {
        const m = /^\s*([A-Z0-9_]+)=([^=]+?)\s*$/.exec(pair);
        if (m === null || !WEBGPU_FLAG.test(m[1]!)) throw new Error(`train-step: --webgpu-flags: "${pair.trim()}" is not FLAG=value with a WEBGPU_* or SL_WEBGPU_* flag name`);
        flags[m[1]!] = m[2]!;
      }
      return flags;
    });
}

/** The variant's name in the table: `webgpu [A=1 B=x]`. */
export function variantName(flags: Record<string, string>): string {
  return `webgpu [${Object.entries(flags).map(([k, v]) => `${k}=${v}`).join(' ')}]`;
}

/**
 * Sets webgpu flags (typed like their current values: number, boolean or string) in the tfjs
 * environment; returns a function that restores the previous values. An unknown flag throws,
 * naming the WEBGPU_* and SL_WEBGPU_* flags registered (tfjs-webgpu's, this repo's matmul choice).
 */
export function setFlags(flags: Record<string, string>): () => void {
  const env = tf.env();
  const known = Object.keys((env as unknown as { flagRegistry: Record<string, unknown> }).flagRegistry).filter((k) => WEBGPU_FLAG.test(k));
  // Every value checked before any is set: a bad one leaves the environment as it was.
  const changes = Object.entries(flags).map(([name, text]) => {
    if (!known.includes(name)) throw new Error(`train-step: --webgpu-flags: unknown flag ${name} (known: ${known.sort().join(', ')})`);
    const current = env.get(name) as number | boolean | string;
    let value: number | boolean | string = text;
    if (typeof current === 'number') {
      value = Number(text);
      if (!Number.isFinite(value)) throw new Error(`train-step: --webgpu-flags: ${name} takes a number, got "${text}"`);
    } else if (typeof current === 'boolean') {
      if (text !== 'true' && text !== 'false') throw new Error(`train-step: --webgpu-flags: ${name} takes true or false, got "${text}"`);
      value = text === 'true';
    }
    return { name, current, value };
  });
  for (const c of changes) env.set(c.name, c.value);
  return () => {
    for (const c of changes) env.set(c.name, c.current);
  };
}

interface StepTimes {
  wall: number[];
  /**
   * Main-thread ms to issue each step before waiting for its loss: on webgpu the host's share
   * (tfjs's engine, this package's ops, recording the dispatches); where the backend computes
   * synchronously (native, wasm, cpu), the compute itself, so only webgpu's is reported.
   */
  issue: number[];
  /** Process CPU time (user + system) per step: less sensitive than wall time to a busy machine. */
  cpu: number[];
  /** tfjs kernels run by one step (from tf.profile of one extra, untimed step); undefined when not counted. */
  kernels: number | undefined;
  /**
   * Sum of the profiled step's kernel times (on webgpu: GPU time from timestamp queries, so
   * wall minus this is host-side overhead), and the costliest kernels by name.
   */
  kernelMs: number | undefined;
  /**
   * Wall time of the profiled step (the tf.profile call, reads of its kernel times included):
   * the kernel time above is a part of it, never more (kernels do not nest in this model).
   */
  profiledMs: number | undefined;
  topKernels: Array<{ name: string; ms: number; count: number }>;
  /** Peak RSS (MB) of the process over the timed steps; undefined where it cannot be reset and read. */
  peakRssMb: number | undefined;
  /** webgpu: the MB tfjs's buffer pool holds after the timed steps (it keeps every buffer it made: its high-water mark). */
  gpuReservedMb: number | undefined;
  /** FLOPs of one step (counted on the first). */
  flops: number;
}

/** Per-kernel-name totals of one profiled step, costliest first. */
export function kernelTotals(kernels: ReadonlyArray<{ name: string; kernelTimeMs: number | { error: string } }>): {
  totalMs: number | undefined;
  byName: Array<{ name: string; ms: number; count: number }>;
} {
  const byName = new Map<string, { name: string; ms: number; count: number }>();
  let total = 0;
  let timed = 0;
  for (const k of kernels) {
    const e = byName.get(k.name) ?? { name: k.name, ms: 0, count: 0 };
    e.count += 1;
    if (typeof k.kernelTimeMs === 'number') {
      e.ms += k.kernelTimeMs;
      total += k.kernelTimeMs;
      timed += 1;
    }
    byName.set(k.name, e);
  }
  return { totalMs: timed === 0 ? undefined : total, byName: [...byName.values()].sort((x, y) => y.ms - x.ms || y.count - x.count) };
}

/** One training step of BenchGPT at size c (forward, backward, AdamW), on the active backend. */
export interface TrainStep {
  /**
   * Runs one step; resolves once its loss has been read (so the step has finished on the device),
   * with the ms the main thread took to issue it (forward, backward, update) before that read.
   */
  step(): Promise<number>;
  /** FLOPs of one step: the matrix products the first step ran (FlopCounter); throws before it. */
  flops(): number;
  dispose(): void;
}

/** Builds BenchGPT at size c with its AdamW optimizer and a fixed random batch (seed 0). */
export function buildTrainStep(c: GptSize): TrainStep {
  const rng = new Rng(0);
  const model = new BenchGPT(c, rng);
  const opt = new AdamW(model.namedParameters(), { lr: 3e-4, weightDecay: 0.01 });
  const named = model.namedParameters().filter(([, v]) => v.trainable);
  const n = c.batch * c.seq;
  // ids, targets: int32 [batch, seq]
  const ids = tf.tensor2d(Int32Array.from({ length: n }, () => rng.int(c.vocab)), [c.batch, c.seq], 'int32');
  const targets = tf.tensor2d(Int32Array.from({ length: n }, () => rng.int(c.vocab)), [c.batch, c.seq], 'int32');
  let flops: number | undefined;
  const step = async (): Promise<number> => {
    const t0 = performance.now();
    // Every step runs the same products: the first one's are counted.
    const counter = flops === undefined ? new FlopCounter().start() : undefined;
    // The backward training uses (valueAndGrads): each node's memory is freed once it has run.
    const { value, grads } = variableGrads(() => crossEntropy(model.forward(ids), targets), named.map(([, v]) => v));
    if (counter) flops = counter.stop().flops;
    const byName = new Map<string, tf.Tensor>();
    for (const [name, v] of named) {
      const g = grads[v.name];
      if (g != null) byName.set(name, g);
    }
    opt.applyGradients(byName);
    tf.dispose([...byName.values()]);
    const issueMs = performance.now() - t0;
    // Read after the update is queued: the read waits for the whole step on the device, and
    // it is asynchronous because webgpu in Node has no synchronous reads.
    await value.data();
    value.dispose();
    return issueMs;
  };
  return {
    step,
    flops: () => {
      if (flops === undefined) throw new Error('buildTrainStep: flops() before the first step');
      return flops;
    },
    dispose: () => {
      ids.dispose();
      targets.dispose();
      opt.dispose();
      model.dispose();
    },
  };
}

/**
 * Times `steps` training steps after one warm-up step (skipped when warmup is false), then
 * counts the kernels of one more step with tf.profile when countKernels is true.
 */
async function timeSteps(c: GptSize, steps: number, warmup: boolean, countKernels: boolean): Promise<StepTimes> {
  const { step, flops, dispose } = buildTrainStep(c);
  if (warmup) await step();
  const times: StepTimes = { wall: [], issue: [], cpu: [], kernels: undefined, kernelMs: undefined, profiledMs: undefined, topKernels: [], peakRssMb: undefined, gpuReservedMb: undefined, flops: 0 };
  const rssReset = resetPeakRss();
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    times.issue.push(await step());
    const c1 = process.cpuUsage(c0);
    times.wall.push(performance.now() - t0);
    times.cpu.push((c1.user + c1.system) / 1000);
  }
  if (rssReset) times.peakRssMb = peakRssMb();
  times.flops = flops();
  const gpu = (tf.memory() as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU;
  if (gpu !== undefined) times.gpuReservedMb = gpu / 2 ** 20;
  if (countKernels) {
    const t0 = performance.now();
    const profile = await tf.profile(step);
    times.profiledMs = performance.now() - t0;
    times.kernels = profile.kernels.length;
    const totals = kernelTotals(profile.kernels as Array<{ name: string; kernelTimeMs: number | { error: string } }>);
    times.kernelMs = totals.totalMs;
    times.topKernels = totals.byName.slice(0, 8);
  }
  dispose();
  return times;
}

function torchAvailable(python: string): boolean {
  return spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

interface TorchRun {
  ms: number;
  cpuMs: number;
  /** The device torch ran on: `cpu`, or `cuda (<GPU name>)`. */
  device: string;
  peakRssMb: number | undefined;
  /** cuda: torch.cuda.max_memory_reserved over the timed steps, MB. */
  gpuReservedMb: number | undefined;
  /** Best GFLOP/s of a GEMM_N^3 torch.mm on the same device. */
  gemmGflops: number | undefined;
}

/** Side of the square GEMM that measures the machine's peak. */
const GEMM_N = 1024;

/** PyTorch's step (fp32; with tf32, TF32 matmuls on cuda), and with gemm its GEMM peak. */
function runTorch(a: TrainStepArgs, device: TorchDevice, options: { tf32?: boolean; gemm?: boolean } = {}): TorchRun {
  const script = fileURLToPath(new URL('./train_step_torch.py', import.meta.url));
  const args = [script, '--size', a.size, '--steps', String(a.steps), '--device', device, '--gemm', String(options.gemm === false ? 0 : GEMM_N), ...(options.tf32 ? ['--tf32'] : [])];
  const r = spawnSync(a.python, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`train_step_torch.py failed (exit ${r.status}): ${r.stderr.trim().split('\n').at(-1)}`);
  const last = r.stdout.trim().split('\n').at(-1)!;
  const r2 = JSON.parse(last) as {
    ms_per_step: number; cpu_ms_per_step: number; device: string; device_name: string; peak_rss_mb: number | null; gpu_reserved_mb: number | null; gemm_gflops: number | null;
  };
  return {
    ms: r2.ms_per_step, cpuMs: r2.cpu_ms_per_step, device: r2.device === 'cuda' ? `cuda (${r2.device_name})` : 'cpu',
    peakRssMb: r2.peak_rss_mb ?? undefined, gpuReservedMb: r2.gpu_reserved_mb ?? undefined, gemmGflops: r2.gemm_gflops ?? undefined,
  };
}

/** Backends that cannot run the large step here, and why (measured, not assumed). */
const largeUnfit: Record<string, string> = {
  wasm: 'the step needs more than the wasm heap limit of 4 GB (it aborts inside an XNNPACK allocation); use webgpu or native',
  cpu: 'the tfjs cpu backend would need hours per step (the tiny step alone takes ~35-60 s)',
};

interface Row {
  system: string;
  ms: number;
  cpuMs: number;
  steps: number;
  kernels: number | undefined;
  kernelMs?: number | undefined;
  profiledMs?: number | undefined;
  /** webgpu: median main-thread ms to issue a step (StepTimes.issue). */
  issueMs?: number | undefined;
  peakRssMb: number | undefined;
  gpuReservedMb?: number | undefined;
}

/** How far apart two timings of the same work may be before the bench says the machine changed under it. */
const DISTURBED = 1.5;

/**
 * Why a backend's figures in this run are suspect, if they are: its profiled step (whose kernel
 * times the bench reports) ran much slower than its timed steps, or its GEMM peak before its
 * steps and after them differ: either way the machine's load changed during the run.
 */
export function disturbances(system: string, t: { medianMs: number; profiledMs?: number; gemmBefore?: number; gemmAfter?: number }): string[] {
  const out: string[] = [];
  if (t.profiledMs !== undefined && t.profiledMs > DISTURBED * t.medianMs) {
    out.push(`${system}: the profiled step took ${t.profiledMs.toFixed(0)} ms, ${(t.profiledMs / t.medianMs).toFixed(1)}x the timed steps' median: its kernel times are inflated by whatever slowed it down`);
  }
  const { gemmBefore: before, gemmAfter: after } = t;
  if (before !== undefined && after !== undefined && Math.max(before, after) > DISTURBED * Math.min(before, after)) {
    out.push(`${system}: its ${GEMM_N}^3 GEMM reached ${before.toFixed(0)} GFLOP/s before its steps and ${after.toFixed(0)} after: the machine's load changed during the run`);
  }
  return out;
}

export async function run(args: string[]): Promise<BenchResult> {
  const a = parseArgs(args);
  const c = sizes[a.size];
  const requested = a.backends ?? ['native', 'wasm', 'cpu'];
  if (a.webgpuVariants.length > 0 && !requested.includes('webgpu')) throw new Error('train-step: --webgpu-flags needs webgpu among --backends');
  const rows: Row[] = [];
  const skipped: string[] = [];
  // Other processes' load: on a shared 2-core machine it changes every figure (torch's most).
  const loadStart = loadavg()[0]!;
  let torchDevice: string | undefined;
  let flops: number | undefined;
  // The machine's GEMM peak in this run, by who reached it (native's kernel, torch's BLAS).
  const gemm: Array<{ system: string; gflops: number; detail?: string }> = [];
  const warnings: string[] = [];
  // PyTorch first: its figure survives a backend that runs out of time.
  if (a.torch) {
    if (torchAvailable(a.python)) {
      const t = runTorch(a, a.torchDevice);
      torchDevice = t.device;
      const system = t.device === 'cpu' ? 'torch' : 'torch-cuda';
      rows.push({ system, ms: t.ms, cpuMs: t.cpuMs, steps: a.steps, kernels: undefined, peakRssMb: t.peakRssMb, gpuReservedMb: t.gpuReservedMb });
      if (t.gemmGflops !== undefined) gemm.push({ system, gflops: t.gemmGflops });
      if (t.device !== 'cpu') {
        // The issue's stretch target is against TF32: PyTorch's tensor-core fp32 matmuls.
        const t32 = runTorch(a, 'cuda', { tf32: true, gemm: false });
        rows.push({ system: 'torch-cuda-tf32', ms: t32.ms, cpuMs: t32.cpuMs, steps: a.steps, kernels: undefined, peakRssMb: t32.peakRssMb, gpuReservedMb: t32.gpuReservedMb });
      }
    } else console.error(`skipped torch: ${a.python} cannot import torch`);
  }
  // Each --webgpu-flags variant runs right after webgpu, as its own row.
  const systems = requested.flatMap((b) => (b === 'webgpu' ? [{ backend: b, flags: undefined }, ...a.webgpuVariants.map((flags) => ({ backend: b, flags }))] : [{ backend: b, flags: undefined }]));
  for (const { backend: b, flags } of systems) {
    const unfit = a.size === 'large' ? largeUnfit[b] : undefined;
    if (unfit !== undefined) {
      if (a.backends !== undefined) throw new Error(`train-step --size large on ${b}: ${unfit}`);
      skipped.push(`${b}: ${unfit}`);
      continue;
    }
    try {
      await initBackend(b as BackendChoice, { log: false });
    } catch (e) {
      if (a.backends !== undefined) throw e;
      skipped.push(`${b}: ${(e as Error).message}`);
      continue;
    }
    const cpu = b === 'cpu';
    const steps = cpu ? a.cpuSteps : a.steps;
    const name = flags === undefined ? b : variantName(flags);
    const restore = flags === undefined ? () => {} : setFlags(flags);
    // The cpu backend's step takes ~35 s: no warm-up and no extra step to count its kernels.
    console.error(`train-step: ${name}, ${steps} step(s)${cpu ? ' (no warm-up: ~35 s each)' : ' after 1 warm-up, then 1 profiled step'}...`);
    // native's GEMM peak, before its steps (a fresh process) and after them: a gap between the
    // two says the machine's state changed during the run (another job started, memory pressure).
    const gemmBefore = b === 'native' ? gemmGflops(GEMM_N, 5) : undefined;
    let t: StepTimes;
    try {
      t = await timeSteps(c, steps, !cpu, !cpu);
    } finally {
      restore();
    }
    flops = t.flops;
    const ms = median(t.wall);
    // The pool is shared by the webgpu rows of this process and never shrinks: only the first (plain) one is its own.
    const gpuReservedMb = b === 'webgpu' && flags === undefined ? t.gpuReservedMb : undefined;
    const issueMs = b === 'webgpu' ? median(t.issue) : undefined;
    rows.push({ system: name, ms, cpuMs: median(t.cpu), steps, kernels: t.kernels, kernelMs: t.kernelMs, profiledMs: t.profiledMs, issueMs, peakRssMb: t.peakRssMb, gpuReservedMb });
    if (t.topKernels.length > 0 && t.kernelMs !== undefined && t.profiledMs !== undefined) {
      console.error(`${name}: kernel time of the profiled step ${t.kernelMs.toFixed(1)} ms of its ${t.profiledMs.toFixed(0)} ms wall time; costliest kernels:`);
      for (const k of t.topKernels) console.error(`  ${k.name.padEnd(28)} ${k.ms.toFixed(2).padStart(9)} ms  x${k.count}`);
    }
    const gemmAfter = gemmBefore === undefined ? undefined : gemmGflops(GEMM_N, 5);
    if (gemmBefore !== undefined && gemmAfter !== undefined) {
      gemm.push({ system: b, gflops: Math.max(gemmBefore, gemmAfter), detail: `best of ${gemmBefore.toFixed(0)} before its steps, ${gemmAfter.toFixed(0)} after` });
    }
    warnings.push(...disturbances(name, { medianMs: ms, ...(t.profiledMs === undefined ? {} : { profiledMs: t.profiledMs }), ...(gemmAfter === undefined ? {} : { gemmBefore, gemmAfter }) }));
  }
  for (const s of skipped) console.error(`skipped ${s}`);
  const torch = rows.find((r) => r.system.startsWith('torch'));
  if (torchDevice !== undefined) console.error(`torch device: ${torchDevice}`);
  const peak = gemm.length === 0 ? undefined : Math.max(...gemm.map((g) => g.gflops));
  const gflops = (r: Row) => (flops === undefined ? undefined : flops / (r.ms / 1e3) / 1e9);
  printTable(
    ['system', 'ms/step', 'x torch', 'cpu ms/step', 'x torch (cpu)', 'GFLOP/s', '% GEMM peak', 'peak RSS MB', 'GPU MB reserved', 'kernels/step', 'kernel ms/step', 'issue ms/step', 'steps'],
    rows.map((r) => {
      const g = gflops(r);
      return [
        r.system, r.ms, torch === undefined ? '-' : (r.ms / torch.ms).toFixed(2),
        r.cpuMs, torch === undefined ? '-' : (r.cpuMs / torch.cpuMs).toFixed(2),
        g === undefined ? '-' : g.toFixed(1), g === undefined || peak === undefined ? '-' : ((100 * g) / peak).toFixed(0),
        r.peakRssMb === undefined ? '-' : r.peakRssMb.toFixed(0),
        r.gpuReservedMb === undefined ? '-' : r.gpuReservedMb.toFixed(0),
        r.kernels === undefined ? '-' : String(r.kernels), r.kernelMs === undefined ? '-' : r.kernelMs.toFixed(1),
        r.issueMs === undefined ? '-' : r.issueMs.toFixed(1), String(r.steps),
      ];
    }),
  );
  if (flops !== undefined) console.log(`step: ${(flops / 1e9).toFixed(1)} GFLOP (the matrix products of one step, forward and backward, counted)`);
  const tf32 = rows.find((r) => r.system === 'torch-cuda-tf32');
  if (tf32 !== undefined) {
    const others = rows.filter((r) => !r.system.startsWith('torch'));
    console.log(`x torch-cuda-tf32 (TF32 matmuls, ${tf32.ms.toFixed(1)} ms/step): ${others.map((r) => `${r.system} ${(r.ms / tf32.ms).toFixed(2)}`).join(', ') || '-'}`);
  }
  if (peak !== undefined) {
    const each = gemm.map((g) => `${g.system} ${g.gflops.toFixed(0)}${g.detail === undefined ? '' : ` (${g.detail})`}`);
    console.log(`GEMM peak (${GEMM_N}^3 fp32, best of 5): ${each.join(', ')} GFLOP/s`);
  }
  for (const w of warnings) console.log(`warning: ${w}`);
  const loadEnd = loadavg()[0]!;
  console.log(`machine load (1-min average): ${loadStart.toFixed(1)} at the start, ${loadEnd.toFixed(1)} at the end, on ${machineInfo().cores} cores`);
  const round = (x: number) => Math.round(x * 10) / 10;
  const results: BenchFigure[] = rows.flatMap((r) => {
    const g = gflops(r);
    return [
      { system: r.system, metric: 'ms_per_step', value: round(r.ms) },
      { system: r.system, metric: 'cpu_ms_per_step', value: round(r.cpuMs) },
      ...(g === undefined ? [] : [{ system: r.system, metric: 'gflops', value: round(g) }]),
      ...(g === undefined || peak === undefined ? [] : [{ system: r.system, metric: 'pct_of_gemm_peak', value: round((100 * g) / peak) }]),
      ...(r.peakRssMb === undefined ? [] : [{ system: r.system, metric: 'peak_rss_mb', value: round(r.peakRssMb) }]),
      ...(r.gpuReservedMb === undefined ? [] : [{ system: r.system, metric: 'gpu_reserved_mb', value: round(r.gpuReservedMb) }]),
      ...(r.kernels === undefined ? [] : [{ system: r.system, metric: 'kernels_per_step', value: r.kernels }]),
      ...(r.kernelMs === undefined ? [] : [{ system: r.system, metric: 'kernel_ms_per_step', value: round(r.kernelMs) }]),
      ...(r.profiledMs === undefined ? [] : [{ system: r.system, metric: 'profiled_step_ms', value: round(r.profiledMs) }]),
      ...(r.issueMs === undefined ? [] : [{ system: r.system, metric: 'issue_ms_per_step', value: round(r.issueMs) }]),
    ];
  });
  for (const g of gemm) results.push({ system: g.system, metric: `gemm_gflops_${GEMM_N}`, value: round(g.gflops) });
  return {
    bench: 'train-step',
    machine: machineInfo(),
    config: {
      size: a.size, ...c, optimizer: 'adamw', steps: a.steps, cpu_steps: a.cpuSteps,
      ...(flops === undefined ? {} : { gflop_per_step: round(flops / 1e9) }),
      load_1m: [round(loadStart), round(loadEnd)],
      ...(warnings.length === 0 ? {} : { warnings }),
      ...(torchDevice === undefined ? {} : { torch_device: torchDevice }),
    },
    results,
  };
}
