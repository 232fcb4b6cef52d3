/**
 * `pnpm bench webgpu-gemm [--size tiny|medium|large] [--reps 10] [--shapes LIST] [--variants LIST]
 *   [--square N] [--python PATH] [--no-torch]`
 *
 * Float32 matmul throughput on the `webgpu` backend for every value of `SL_WEBGPU_MATMUL` (tfjs's
 * own programs and this repo's, `matMulChoices`), beside PyTorch CUDA fp32 and TF32 on the same
 * shapes (webgpu_gemm_torch.py, when the python has a CUDA torch), in one run. The shapes are
 * the GEMMs of one train-step GPT step at `--size` ({@link stepGemms}: every Linear forward and its
 * two backward products, the attention products and theirs), plus one square product as a peak
 * reference.
 *
 * Per shape and system: GPU ms per call, the mean of `reps` calls after one warm-up call. On
 * webgpu that is tf.profile's kernel time (tfjs-webgpu's timestamp queries) when the adapter has
 * 'timestamp-query', else the wall time below. Dawn rounds timestamps down to 65.5 us steps: the
 * mean of such differences is unbiased where the median and the best are not. `wall ms/call`:
 * `reps` back-to-back calls ended by one read of a single element of the last product (all have
 * then finished on the GPU), over reps; torch: the same ended by torch.cuda.synchronize().
 * GFLOP/s = 2 x batch x m x n x k over ms/call; `% torch fp32` = torch-cuda's ms over the system's.
 * Totals weight each shape by its calls per step: GEMM ms per step for each system.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, MATMUL_FLAG, matMulChoices, type GpuDevice } from '@sentencelab/tensor';
import { machineInfo, printTable, type BenchFigure, type BenchResult } from '../result.js';
import { flopsOf, shapeKey, shapeLabel, type GemmShape } from './gemm-shapes.js';
import { runNumpy } from './kernels.js';
import { sizes, type GptSize } from './train-step.js';
import { options } from '../options.js';

type SizeName = keyof typeof sizes;

/** Side of the square peak-reference product per size (the large one is the GPU's; tiny runs on a software adapter). */
const squareSides: Record<SizeName, number> = { tiny: 512, medium: 2048, large: 4096 };

export const usage = `pnpm bench webgpu-gemm [options]
  Float32 matmul GFLOP/s on webgpu for every SL_WEBGPU_MATMUL value (${matMulChoices.join(', ')}) beside
  PyTorch CUDA fp32 and TF32, on the GEMMs of one train-step GPT step and a square product.
  --size NAME      train-step size whose GEMMs are timed: ${Object.keys(sizes).join(', ')} (default large)
  --reps N         timed calls per shape and system after 1 warm-up, mean kept (default 10)
  --shapes LIST    GEMMs to time, comma-separated names (default all): ${gemmNames().join(', ')}
  --variants LIST  SL_WEBGPU_MATMUL values, comma-separated (default all of them)
  --square N       side of the square product (default ${Object.entries(squareSides).map(([s, n]) => `${n} at ${s}`).join(', ')})
  --python PATH    the python with a CUDA torch (default /usr/bin/python3)
  --no-torch       skip PyTorch`;

export interface WebgpuGemmArgs {
  size: SizeName;
  reps: number;
  /** Names from {@link stepGemms} and `square`; undefined: all. */
  shapes: string[] | undefined;
  /** SL_WEBGPU_MATMUL values; undefined: every one of matMulChoices. */
  variants: string[] | undefined;
  /** Side of the square product; undefined: the size's default. */
  square: number | undefined;
  python: string;
  torch: boolean;
}

export function parseArgs(args: string[]): WebgpuGemmArgs {
  const out: WebgpuGemmArgs = { size: 'large', reps: 10, shapes: undefined, variants: undefined, square: undefined, python: '/usr/bin/python3', torch: true };
  for (const o of options('webgpu-gemm', args)) {
    if (o.name === '--size') {
      const s = o.value();
      if (!(s in sizes)) throw new Error(`webgpu-gemm: --size must be ${Object.keys(sizes).join(', ')}, got "${s}"`);
      out.size = s as SizeName;
    } else if (o.name === '--reps') out.reps = o.count();
    else if (o.name === '--shapes') out.shapes = o.list(gemmNames());
    else if (o.name === '--variants') out.variants = o.list(matMulChoices);
    else if (o.name === '--square') out.square = o.count();
    else if (o.name === '--python') out.python = o.value();
    else if (o.name === '--no-torch') out.torch = false;
    else o.unknown();
  }
  return out;
}

/** One GEMM of the training step: its name, its shape and how many times one step runs it. */
export interface StepGemm {
  name: string;
  calls: number;
  shape: GemmShape;
}

/** C[batch][m x n] = op(A) op(B), both operands with `batch` matrices (2-D when batch is 1). */
function gemm(batch: number, m: number, n: number, k: number, transposeA: boolean, transposeB: boolean): GemmShape {
  return { batch, m, n, k, transposeA, transposeB, aMatrices: batch, bMatrices: batch };
}

/**
 * The GEMMs of one BenchGPT training step at size c, as @sentencelab/tensor runs them: each Linear
 * on the flattened tokens (x [tokens, in] . W [in, out], the attention's q, k and v fused into one
 * [d, 3d] weight), its backward dX = dY W^T and dW = X^T dY (tfjs's matMul gradients: the transpose
 * flags, no copies), and attention per (batch, head): scores q k^T and context p v forward, and
 * backward dq = ds k, dk = ds^T q, dp = do v^T, dv = p^T do.
 */
export function stepGemms(c: GptSize): StepGemm[] {
  const tokens = c.batch * c.seq;
  const d = c.dModel;
  const heads = c.batch * c.heads;
  const headDim = d / c.heads;
  const linear = (name: string, inF: number, outF: number, calls: number): StepGemm[] => [
    { name, calls, shape: gemm(1, tokens, outF, inF, false, false) }, // x [tokens, in] . W [in, out]
    { name: `${name}.dx`, calls, shape: gemm(1, tokens, inF, outF, false, true) }, // dY [tokens, out] . W^T
    { name: `${name}.dw`, calls, shape: gemm(1, inF, outF, tokens, true, false) }, // X^T . dY [tokens, out]
  ];
  const L = c.layers;
  return [
    ...linear('qkv', d, 3 * d, L),
    ...linear('out', d, d, L),
    ...linear('up', d, 4 * d, L),
    ...linear('down', 4 * d, d, L),
    ...linear('head', d, c.vocab, 1),
    // q, k, v, o: [batch * heads, seq, headDim]; s, p: [batch * heads, seq, seq]
    { name: 'qk', calls: L, shape: gemm(heads, c.seq, c.seq, headDim, false, true) }, // s = q k^T
    { name: 'qk.dq', calls: L, shape: gemm(heads, c.seq, headDim, c.seq, false, false) }, // ds k
    { name: 'qk.dk', calls: L, shape: gemm(heads, c.seq, headDim, c.seq, true, false) }, // ds^T q
    { name: 'pv', calls: L, shape: gemm(heads, c.seq, headDim, c.seq, false, false) }, // o = p v
    { name: 'pv.dp', calls: L, shape: gemm(heads, c.seq, c.seq, headDim, false, true) }, // do v^T
    { name: 'pv.dv', calls: L, shape: gemm(heads, c.seq, headDim, c.seq, true, false) }, // p^T do
  ];
}

/** What `--shapes` takes: the step's GEMM names (the same at every size) and `square`. */
export function gemmNames(): string[] {
  return [...stepGemms(sizes.tiny).map((g) => g.name), 'square'];
}

/** A shape timed once for every GEMM of the step that has it (pv and qk.dq are one product). */
export interface TimedShape extends GemmShape {
  names: string[];
  /** Calls per step, summed over those GEMMs (0 for the square product alone). */
  calls: number;
}

/** The step's GEMMs grouped by shape, in the step's order, then the square product; `only` picks by name. */
export function timedShapes(c: GptSize, square: number, only?: readonly string[]): TimedShape[] {
  const all: StepGemm[] = [...stepGemms(c), { name: 'square', calls: 0, shape: gemm(1, square, square, square, false, false) }];
  const byKey = new Map<string, TimedShape>();
  for (const g of all.filter((x) => only === undefined || only.includes(x.name))) {
    const key = shapeKey(g.shape);
    const t = byKey.get(key) ?? { ...g.shape, names: [], calls: 0 };
    t.names.push(g.name);
    t.calls += g.calls;
    byKey.set(key, t);
  }
  return [...byKey.values()];
}

/** GPU ms per call (mean of reps) and wall ms per call of back-to-back calls. */
export interface Timing {
  ms: number;
  wallMs: number;
}

interface TorchOut {
  torch: string;
  cuda: string | null;
  device_name: string;
  fp32: Array<{ ms: number; wall_ms: number }>;
  tf32: Array<{ ms: number; wall_ms: number }> | null;
}

/**
 * PyTorch's timings of `shapes` (webgpu_gemm_torch.py in a child process), or why there are none
 * (no python, no torch, no CUDA: its last stderr line). `device: 'cpu'` is for tests.
 */
export function runTorch(shapes: readonly GemmShape[], reps: number, python: string, device: 'cuda' | 'cpu' = 'cuda'):
  { torch: string; device: string; fp32: Timing[]; tf32: Timing[] | undefined } | string {
  // runNumpy runs any of this folder's python scripts; torch does not mind its OpenBLAS clean-up.
  const r = runNumpy<TorchOut>('webgpu_gemm_torch.py', [JSON.stringify(shapes), '--reps', String(reps), '--device', device], [python]);
  if (typeof r === 'string') return r;
  const timing = (t: { ms: number; wall_ms: number }): Timing => ({ ms: t.ms, wallMs: t.wall_ms });
  return {
    torch: `${r.out.torch}${r.out.cuda === null ? '' : ` (CUDA ${r.out.cuda})`}`,
    device: r.out.device_name,
    fp32: r.out.fp32.map(timing),
    tf32: r.out.tf32?.map(timing),
  };
}

/** Waits until everything queued before has run on the device: one element of t, read back. */
async function settle(t: tf.Tensor): Promise<void> {
  const one = tf.slice(t, t.shape.map(() => 0), t.shape.map(() => 1));
  await one.data();
  one.dispose();
}

/** Program names in a profiled kernel's extraInfo (`Name: ms, ...`); this repo's programs are plain objects. */
function programs(extraInfo: string): string[] {
  return [...new Set(extraInfo.split(', ').map((p) => p.slice(0, p.lastIndexOf(':'))).filter((p) => p !== ''))].map((p) => (p === 'Object' ? 'own' : p));
}

interface WebgpuTiming extends Timing {
  programs: string[];
  /** The kernel times in ns (empty when timed by wall clock). */
  kernelNs: number[];
}

/** Times shape s on webgpu with each SL_WEBGPU_MATMUL value in turn (the caller restores the flag). */
async function timeWebgpu(s: GemmShape, variants: readonly string[], reps: number, kernelTimes: boolean): Promise<WebgpuTiming[]> {
  // A [batch?, m, k] or [batch?, k, m] when transposed; B [batch?, k, n] or [batch?, n, k].
  const dims = (rows: number, cols: number, t: boolean) => [...(s.batch > 1 ? [s.batch] : []), ...(t ? [cols, rows] : [rows, cols])];
  const a = tf.randomUniform(dims(s.m, s.k, s.transposeA), -1, 1, 'float32', 1);
  const b = tf.randomUniform(dims(s.k, s.n, s.transposeB), -1, 1, 'float32', 2);
  const call = () => tf.matMul(a, b, s.transposeA, s.transposeB);
  const out: WebgpuTiming[] = [];
  for (const v of variants) {
    tf.env().set(MATMUL_FLAG, v);
    // Warm-up (pipeline compilation); its profile names the programs that ran (tfjs's, or `own`).
    const warm = await tf.profile(call);
    const result = warm.result as tf.Tensor;
    await settle(result);
    result.dispose();
    const names = warm.kernels.flatMap((k) => programs(k.extraInfo as string));
    const kernelNs: number[] = [];
    if (kernelTimes) {
      for (let i = 0; i < reps; i++) {
        const p = await tf.profile(call);
        (p.result as tf.Tensor).dispose();
        kernelNs.push(Math.round(p.kernels.reduce((t, k) => t + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0), 0) * 1e6));
      }
    }
    const t0 = performance.now();
    let last = call();
    for (let i = 1; i < reps; i++) {
      last.dispose();
      last = call();
    }
    await settle(last);
    const wallMs = (performance.now() - t0) / reps;
    last.dispose();
    const ms = kernelTimes ? kernelNs.reduce((x, y) => x + y, 0) / kernelNs.length / 1e6 : wallMs;
    out.push({ ms, wallMs, programs: [...new Set(names)], kernelNs });
  }
  tf.dispose([a, b]);
  return out;
}

const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));

/** Three significant digits (whole numbers from 100 up): GPU calls range from microseconds to seconds. */
const ms3 = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toPrecision(3));

/** torch-cuda's ms over the system's, as `N%` (`-` without torch, and for torch-cuda itself). */
const pct = (torchMs: number | undefined, ms: number, system: string) => (torchMs === undefined || system === 'torch-cuda' ? '-' : `${((100 * torchMs) / ms).toFixed(0)}%`);

export async function run(args: string[]): Promise<BenchResult> {
  const opts = parseArgs(args);
  const c = sizes[opts.size];
  const square = opts.square ?? squareSides[opts.size];
  const shapes = timedShapes(c, square, opts.shapes);
  const variants = opts.variants ?? [...matMulChoices];
  const notes: string[] = [];

  // webgpu first: without it the bench has nothing to compare, and it should fail before torch runs.
  let device: GpuDevice;
  try {
    device = (await initBackend('webgpu', { log: false })).device!;
  } catch (e) {
    throw new Error(`webgpu-gemm needs the webgpu backend: ${(e as Error).message}`);
  }
  const adapter = `${device.description || device.device || device.vendor}${device.software ? ' (software)' : ''}`;
  // tfjs-webgpu times kernels with timestamp queries when the device has them (else it reports 0).
  const kernelTimes = (tf.backend() as unknown as { supportTimestampQuery?: boolean }).supportTimestampQuery === true;
  const timingSource = kernelTimes ? 'GPU kernel time (timestamp queries)' : 'wall time of back-to-back calls (no timestamp-query on this adapter)';

  // PyTorch before the webgpu timings, in its own process: its memory is freed when it exits.
  let torch: Exclude<ReturnType<typeof runTorch>, string> | undefined;
  if (opts.torch) {
    console.error(`webgpu-gemm: PyTorch CUDA on ${shapes.length} shapes...`);
    const r = runTorch(shapes, opts.reps, opts.python);
    if (typeof r === 'string') notes.push(`torch rows absent: ${r}`);
    else torch = r;
  } else notes.push('torch rows absent: --no-torch');

  const systems = [...variants.map((v) => `webgpu-${v}`), ...(torch === undefined ? [] : ['torch-cuda', ...(torch.tf32 === undefined ? [] : ['torch-cuda-tf32'])])];
  // timings[shape][system]
  const timings: Array<Record<string, Timing>> = [];
  const programsBy: Record<string, Record<string, string>> = {};
  // The greatest common divisor of every kernel time (ns): Dawn's timestamp step, when it has one.
  let quantum = 0;
  let kernelCount = 0;
  const previous = tf.env().get(MATMUL_FLAG);
  try {
    for (const [i, s] of shapes.entries()) {
      console.error(`webgpu-gemm: ${s.names.join('+')} ${shapeKey(s)} (${i + 1}/${shapes.length}) on ${variants.length} variants...`);
      const row: Record<string, Timing> = {};
      const web = await timeWebgpu(s, variants, opts.reps, kernelTimes);
      for (const [j, v] of variants.entries()) {
        const t = web[j]!;
        row[`webgpu-${v}`] = t;
        (programsBy[`webgpu-${v}`] ??= {})[s.names.join('+')] = t.programs.join('+');
        quantum = t.kernelNs.reduce(gcd, quantum);
        kernelCount += t.kernelNs.length;
      }
      if (torch !== undefined) {
        row['torch-cuda'] = torch.fp32[i]!;
        if (torch.tf32 !== undefined) row['torch-cuda-tf32'] = torch.tf32[i]!;
      }
      timings.push(row);
    }
  } finally {
    tf.env().set(MATMUL_FLAG, previous);
  }
  if (kernelCount >= 8 && quantum >= 1000) notes.push(`kernel times came in steps of ${(quantum / 1e3).toFixed(1)} us (Dawn's timestamp quantization): ms/call is a mean over reps, unbiased, but noisy below ~10 steps per call`);

  const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
  const gflops = (s: GemmShape, ms: number) => flopsOf(s) / (ms / 1e3) / 1e9;
  const results: BenchFigure[] = [];
  const rows: string[][] = [];
  for (const [i, s] of shapes.entries()) {
    const torchMs = timings[i]!['torch-cuda']?.ms;
    for (const [j, system] of systems.entries()) {
      const t = timings[i]![system]!;
      const metric = (what: string) => `${what}_${opts.size}_${shapeKey(s)}`;
      results.push(
        { system, metric: metric('ms_per_call'), value: round(t.ms, 4) },
        { system, metric: metric('gflops'), value: round(gflops(s, t.ms)) },
        { system, metric: metric('wall_ms_per_call'), value: round(t.wallMs, 4) },
      );
      const first = j === 0;
      rows.push([
        first ? s.names.join('+') : '', first ? shapeLabel(s) : '', first ? String(s.calls) : '', system,
        ms3(t.ms), gflops(s, t.ms).toFixed(0), pct(torchMs, t.ms, system), ms3(t.wallMs), programsBy[system]?.[s.names.join('+')] ?? '-',
      ]);
    }
  }
  printTable(['GEMM', 'shape (batch x op(A) . op(B))', 'calls/step', 'system', 'ms/call', 'GFLOP/s', '% torch fp32', 'wall ms/call', 'webgpu program'], rows, { right: [2, 4, 5, 6, 7] });

  // Totals: each shape of the step weighted by its calls (the square product has none).
  const inStep = shapes.map((s, i) => ({ s, t: timings[i]! })).filter(({ s }) => s.calls > 0);
  if (inStep.length > 0) {
    const total = (system: string) => inStep.reduce((sum, { s, t }) => sum + s.calls * t[system]!.ms, 0);
    const flops = inStep.reduce((sum, { s }) => sum + s.calls * flopsOf(s), 0);
    const torchTotal = torch === undefined ? undefined : total('torch-cuda');
    const totals = systems.map((system) => ({ system, ms: total(system) }));
    console.log();
    printTable(
      ['system', `GEMM ms per ${opts.size} step`, 'GFLOP/s', '% torch fp32'],
      totals.map(({ system, ms }) => [system, ms3(ms), (flops / (ms / 1e3) / 1e9).toFixed(0), pct(torchTotal, ms, system)]),
      { right: [1, 2, 3] },
    );
    for (const { system, ms } of totals) {
      results.push({ system, metric: `gemm_ms_per_step_${opts.size}`, value: round(ms, 3) });
      if (torchTotal !== undefined && system !== 'torch-cuda') results.push({ system, metric: `pct_of_torch_cuda_${opts.size}`, value: round((100 * torchTotal) / ms) });
    }
    const best = inStep.reduce((sum, { s, t }) => sum + s.calls * Math.min(...variants.map((v) => t[`webgpu-${v}`]!.ms)), 0);
    const picks = inStep.map(({ s, t }) => `${s.names.join('+')} ${variants.reduce((p, v) => (t[`webgpu-${v}`]!.ms < t[`webgpu-${p}`]!.ms ? v : p))}`);
    console.log(`${inStep.reduce((n, { s }) => n + s.calls, 0)} GEMM calls per ${opts.size} step, ${(flops / 1e9).toFixed(1)} GFLOP${opts.shapes === undefined ? '' : ' (the chosen shapes only)'}`);
    console.log(`webgpu with the best variant per shape: ${ms3(best)} ms per step${torchTotal === undefined ? '' : `, ${((100 * torchTotal) / best).toFixed(0)}% of torch fp32`} (${picks.join(', ')})`);
  }
  console.log(`webgpu: ${adapter}; ms/call: ${timingSource}, mean of ${opts.reps} after 1 warm-up`);
  if (torch !== undefined) console.log(`torch: ${torch.torch} on ${torch.device}; ms/call: CUDA events around each call, mean of ${opts.reps} after 1 warm-up`);
  for (const n of notes) console.log(n);
  return {
    bench: 'webgpu-gemm',
    machine: machineInfo(),
    config: {
      size: opts.size, ...c, tokens: c.batch * c.seq, reps: opts.reps, stat: 'mean of reps per call after 1 warm-up', square,
      webgpu: { adapter, timing: timingSource, flag: MATMUL_FLAG, variants, programs: programsBy },
      ...(torch === undefined ? {} : { torch: { version: torch.torch, device: torch.device, python: opts.python } }),
      shapes: shapes.map((s) => ({ key: shapeKey(s), names: s.names, calls: s.calls, gflop: round(flopsOf(s) / 1e9, 3) })),
      notes,
    },
    results,
  };
}
