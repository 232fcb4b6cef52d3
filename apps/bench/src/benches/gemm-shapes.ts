/**
 * `pnpm bench gemm-shapes [--sizes medium,large] [--reps 5] [--threads N] [--python /usr/bin/python3] [--no-numpy] [--no-openblas]`
 *
 * Every GEMM shape the train-step bench's GPT step runs at each size, collected from one traced
 * step (`traceNativeGemm`: BatchMatMul, _FusedMatMul and SlMatMulBias calls alike), then timed
 * side by side in this run, the systems taking turns shape by shape:
 *   native           the built-in C++ GEMM (the C++ call alone, timed by the trace)
 *   native-openblas  the same call sent to the system OpenBLAS in-process (`setNativeBlas`)
 *   numpy            np.matmul on the same shapes in a python child (gemm_shapes_numpy.py:
 *                    OpenBLAS's cblas_sgemm, one call per matrix of a batch)
 * Per shape: calls per step, the shape's time inside the traced step, each system's GFLOP/s
 * (best wall time of reps per call) and native's as % of the faster OpenBLAS, on wall time and on
 * process CPU time (best of reps too: on a busy machine wall time measures the other processes,
 * CPU time still the kernel; with 1 thread it is the kernel's own efficiency). Totals weight each
 * shape by its calls per step: GEMM ms per step for each system (sum of calls x best ms per call)
 * and native's % of OpenBLAS over that time. `--threads` sets native's, OpenBLAS's and numpy's
 * threads alike (default: all cores).
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { nativeInfo, setNativeBlas, traceNativeGemm, type NativeGemmCall } from '@sentencelab/backend-native';
import { initBackend } from '@sentencelab/tensor';
import { machineInfo, printTable, type BenchFigure, type BenchResult } from '../result.js';
import { runNumpy } from './kernels.js';
import { buildTrainStep, sizes } from './train-step.js';
import { options } from '../options.js';

export const usage = `pnpm bench gemm-shapes [options]
  Times every GEMM shape of the train-step GPT step (collected from a traced step) on the
  built-in kernel, in-process OpenBLAS and numpy, side by side.
  --sizes LIST     train-step sizes to trace, comma-separated (default medium,large)
  --reps N         timed calls per shape and system, best kept (default 5)
  --threads N      threads of every system (default: all cores)
  --python PATH    the python with numpy (default /usr/bin/python3, then python3)
  --no-numpy       skip numpy
  --no-openblas    skip native-openblas`;

type SizeName = keyof typeof sizes;

interface Args {
  sizes: SizeName[];
  reps: number;
  threads: number | undefined;
  python: string | undefined;
  numpy: boolean;
  openblas: boolean;
}

export function parseArgs(args: string[]): Args {
  const out: Args = { sizes: ['medium', 'large'], reps: 5, threads: undefined, python: undefined, numpy: true, openblas: true };
  for (const o of options('gemm-shapes', args)) {
    if (o.name === '--sizes') out.sizes = o.list(Object.keys(sizes) as SizeName[]);
    else if (o.name === '--reps') out.reps = o.count();
    else if (o.name === '--threads') out.threads = o.count();
    else if (o.name === '--python') out.python = o.value();
    else if (o.name === '--no-numpy') out.numpy = false;
    else if (o.name === '--no-openblas') out.openblas = false;
    else o.unknown();
  }
  return out;
}

/** A GEMM shape: C[batch][m x n] = op(A) op(B), A or B broadcast when it has one matrix. */
export type GemmShape = Omit<NativeGemmCall, 'ms' | 'cpuMs'>;

/** A shape and how a traced step used it. */
export interface ShapeUse extends GemmShape {
  /** Calls per step. */
  calls: number;
  /** Their summed time inside the traced step, ms. */
  stepMs: number;
}

/** The traced calls grouped by shape, costliest in the step first. */
export function groupCalls(calls: readonly NativeGemmCall[]): ShapeUse[] {
  const byKey = new Map<string, ShapeUse>();
  for (const { ms, cpuMs, ...shape } of calls) {
    const key = shapeKey(shape);
    const use = byKey.get(key) ?? { ...shape, calls: 0, stepMs: 0 };
    use.calls += 1;
    use.stepMs += ms;
    byKey.set(key, use);
  }
  return [...byKey.values()].sort((x, y) => y.stepMs - x.stepMs);
}

/** `b256_256x256x64_nt`: batch, m x n x k, then n/t for A and B (transposed), b for a broadcast operand. */
export function shapeKey(s: GemmShape): string {
  const op = (t: boolean, count: number) => (count === 1 && s.batch > 1 ? 'b' : '') + (t ? 't' : 'n');
  return `b${s.batch}_${s.m}x${s.n}x${s.k}_${op(s.transposeA, s.aMatrices)}${op(s.transposeB, s.bMatrices)}`;
}

/** `256 x 256x64 . 64x256^T`: the batch (when > 1), op(A) [m x k] and op(B) [k x n], `(bcast)` on a broadcast operand. */
export function shapeLabel(s: GemmShape): string {
  const side = (rows: number, cols: number, t: boolean, count: number) =>
    `${rows}x${cols}${t ? '^T' : ''}${count === 1 && s.batch > 1 ? '(bcast)' : ''}`;
  const batch = s.batch > 1 ? `${s.batch} x ` : '';
  return `${batch}${side(s.m, s.k, s.transposeA, s.aMatrices)} . ${side(s.k, s.n, s.transposeB, s.bMatrices)}`;
}

/** FLOPs of one product of `s`: two per multiply-add. */
export const flopsOf = (s: GemmShape): number => 2 * s.batch * s.m * s.n * s.k;

/** Best wall and best CPU time (ms, each the least over the reps) of one call of a shape. */
interface Best {
  ms: number;
  cpuMs: number;
}

/** Best times of one native GEMM call of shape s (the built-in or OpenBLAS, whichever is active). */
async function nativeBest(s: GemmShape, reps: number): Promise<Best> {
  for (const count of [s.aMatrices, s.bMatrices])
    if (count !== 1 && count !== s.batch) throw new Error(`gemm-shapes: cannot replay ${shapeKey(s)}: an operand with ${count} matrices for a batch of ${s.batch}`);
  // A stored [count, m, k] (or [count, k, m] when transposed), 2-D when the product is not batched.
  const dims = (count: number, rows: number, cols: number, t: boolean) => {
    const mat = t ? [cols, rows] : [rows, cols];
    return s.batch > 1 ? [count, ...mat] : mat;
  };
  const a = tf.randomUniform(dims(s.aMatrices, s.m, s.k, s.transposeA), -1, 1, 'float32', 1);
  const b = tf.randomUniform(dims(s.bMatrices, s.k, s.n, s.transposeB), -1, 1, 'float32', 2);
  const once = async (): Promise<Best> => {
    const { result, calls } = await traceNativeGemm(() => tf.matMul(a, b, s.transposeA, s.transposeB));
    result.dispose();
    if (calls.length !== 1 || shapeKey(calls[0]!) !== shapeKey(s)) {
      throw new Error(`gemm-shapes: replaying ${shapeKey(s)} ran ${calls.map(shapeKey).join(', ') || 'no native GEMM'}`);
    }
    return calls[0]!;
  };
  const first = await once(); // warm-up: pack buffers, output pool, page faults
  // Keep each system under ~3 s per shape.
  const count = Math.max(1, Math.min(reps, Math.floor(3000 / Math.max(first.ms, 0.01))));
  const best = { ms: Infinity, cpuMs: Infinity };
  for (let i = 0; i < count; i++) {
    const t = await once();
    best.ms = Math.min(best.ms, t.ms);
    best.cpuMs = Math.min(best.cpuMs, t.cpuMs);
  }
  tf.dispose([a, b]);
  return best;
}

const SYSTEMS = ['native', 'native-openblas', 'numpy'] as const;
type System = (typeof SYSTEMS)[number];
type Totals = Record<System | 'openblas-best', number>;

export async function run(args: string[]): Promise<BenchResult> {
  const opts = parseArgs(args);
  const loadStart = loadavg()[0]!;
  await initBackend('native', { log: false, ...(opts.threads === undefined ? {} : { threads: opts.threads }) });
  const notes: string[] = [];
  let openblas = opts.openblas;
  if (openblas) {
    try {
      setNativeBlas('openblas');
      if (process.env.OPENBLAS_CORETYPE) notes.push(`native-openblas runs with OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE} from the environment (numpy runs without it)`);
    } catch (e) {
      notes.push(`native-openblas skipped: ${(e as Error).message}`);
      openblas = false;
    } finally {
      setNativeBlas('builtin');
    }
  }
  let numpy = opts.numpy;
  let numpyInfo: Record<string, unknown> = {};
  const pythons = opts.python === undefined ? ['/usr/bin/python3', 'python3'] : [opts.python];
  const numpyBest = (s: GemmShape): Best | undefined => {
    if (!numpy) return undefined;
    const threads = opts.threads === undefined ? [] : [String(opts.threads)];
    const r = runNumpy<{ blas: string; numpy: string; best: Best[] }>('gemm_shapes_numpy.py', [JSON.stringify([s]), String(opts.reps), ...threads], pythons);
    if (typeof r === 'string') {
      notes.push(`numpy skipped: ${r}`);
      numpy = false;
      return undefined;
    }
    numpyInfo = { python: r.python, blas: r.out.blas, numpy: r.out.numpy };
    return r.out.best[0];
  };

  const results: BenchFigure[] = [];
  const rows: (string | number)[][] = [];
  const summaries: string[] = [];
  const shapesConfig: Record<string, unknown[]> = {};
  const round = (x: number) => Math.round(x * 10) / 10;
  const pctCell = (x: number | undefined) => (x === undefined ? '-' : `${x.toFixed(0)}%`);
  for (const size of opts.sizes) {
    console.error(`gemm-shapes: tracing one ${size} step...`);
    const train = buildTrainStep(sizes[size]);
    await train.step(); // warm-up
    const t0 = performance.now();
    const { calls } = await traceNativeGemm(() => train.step());
    const stepMs = performance.now() - t0;
    train.dispose();
    const uses = groupCalls(calls);
    shapesConfig[size] = uses.map((u) => ({ key: shapeKey(u), calls: u.calls }));
    const wall: Totals = { native: 0, 'native-openblas': 0, numpy: 0, 'openblas-best': 0 };
    const cpu: Totals = { ...wall };
    const measured = new Set<System>();
    console.error(`gemm-shapes: ${size}: ${uses.length} shapes, ${calls.length} GEMM calls per step; timing...`);
    for (const u of uses) {
      const best: Partial<Record<System, Best>> = { native: await nativeBest(u, opts.reps) };
      if (openblas) {
        setNativeBlas('openblas');
        try {
          best['native-openblas'] = await nativeBest(u, opts.reps);
        } finally {
          setNativeBlas('builtin');
        }
      }
      const np = numpyBest(u);
      if (np !== undefined) best.numpy = np;
      const gflops = (ms: number) => flopsOf(u) / (ms / 1e3) / 1e9;
      for (const sys of SYSTEMS) {
        const t = best[sys];
        if (t === undefined) continue;
        measured.add(sys);
        wall[sys] += u.calls * t.ms;
        cpu[sys] += u.calls * t.cpuMs;
        results.push(
          { system: sys, metric: `gflops_${size}_${shapeKey(u)}`, value: round(gflops(t.ms)) },
          { system: sys, metric: `gflops_per_cpu_s_${size}_${shapeKey(u)}`, value: round(gflops(t.cpuMs)) },
        );
      }
      const blas = [best['native-openblas'], best.numpy].filter((x): x is Best => x !== undefined);
      const pct: { wall?: number; cpu?: number } = {};
      if (blas.length > 0) {
        const blasMs = Math.min(...blas.map((b) => b.ms));
        const blasCpuMs = Math.min(...blas.map((b) => b.cpuMs));
        wall['openblas-best'] += u.calls * blasMs;
        cpu['openblas-best'] += u.calls * blasCpuMs;
        pct.wall = (100 * blasMs) / best.native!.ms;
        pct.cpu = (100 * blasCpuMs) / best.native!.cpuMs;
      }
      const cell = (t: Best | undefined) => (t === undefined ? '-' : gflops(t.ms));
      rows.push([
        size, shapeLabel(u), String(u.calls), u.stepMs,
        cell(best.native), cell(best['native-openblas']), cell(best.numpy), pctCell(pct.wall), pctCell(pct.cpu),
      ]);
    }
    const stepGemmMs = uses.reduce((t, u) => t + u.stepMs, 0);
    for (const sys of SYSTEMS)
      if (measured.has(sys)) {
        results.push(
          { system: sys, metric: `gemm_ms_per_step_${size}`, value: round(wall[sys]) },
          { system: sys, metric: `gemm_cpu_ms_per_step_${size}`, value: round(cpu[sys]) },
        );
      }
    const parts = SYSTEMS.filter((s) => measured.has(s)).map((s) => `${s} ${wall[s].toFixed(1)} (CPU ${cpu[s].toFixed(1)})`);
    let summary = `${size}: GEMM ms per step, sum of calls x best ms: ${parts.join(', ')}`;
    if (wall['openblas-best'] > 0) {
      const pctWall = (100 * wall['openblas-best']) / wall.native;
      const pctCpu = (100 * cpu['openblas-best']) / cpu.native;
      results.push({ system: 'native', metric: `pct_of_openblas_${size}`, value: round(pctWall) }, { system: 'native', metric: `pct_of_openblas_cpu_${size}`, value: round(pctCpu) });
      summary += `; native at ${pctWall.toFixed(0)}% of the faster OpenBLAS per shape (${pctCpu.toFixed(0)}% on CPU time)`;
    }
    summary += `. The traced step: ${stepMs.toFixed(0)} ms, ${stepGemmMs.toFixed(0)} ms of it in ${calls.length} GEMM calls.`;
    results.push({ system: 'native', metric: `traced_step_ms_${size}`, value: round(stepMs) }, { system: 'native', metric: `traced_step_gemm_ms_${size}`, value: round(stepGemmMs) });
    summaries.push(summary);
  }
  printTable(
    ['size', 'shape (batch x op(A) . op(B))', 'calls/step', 'ms in step', 'native GFLOP/s', 'native-openblas', 'numpy', 'native % of OpenBLAS', '(CPU time)'],
    rows,
  );
  for (const s of summaries) console.log(s);
  for (const n of notes) console.log(n);
  const loadEnd = loadavg()[0]!;
  const info = nativeInfo();
  console.log(`threads: ${info.threads ?? '-'}; machine load (1-min average): ${loadStart.toFixed(1)} at the start, ${loadEnd.toFixed(1)} at the end, on ${machineInfo().cores} cores`);
  return {
    bench: 'gemm-shapes',
    machine: machineInfo(),
    config: {
      sizes: opts.sizes, reps: opts.reps, stat: 'best of reps per call',
      native: info.available ? { simd: info.simd, threads: info.threads, tile: info.gemmTile } : { unavailable: info.reason },
      numpy: numpyInfo, shapes: shapesConfig, load_1m: [round(loadStart), round(loadEnd)], notes,
    },
    results,
  };
}
