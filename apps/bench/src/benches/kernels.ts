/**
 * `pnpm bench kernels [--sizes 256,512,1024,2048] [--reps N] [--threads N] [--no-numpy] [--no-wasm] [--no-cpu]`
 *
 * Square float32 GEMM (C = A B, n x n) in GFLOP/s, side by side in one run:
 *   native  our built-in C++ kernel through tfjs (`tf.matMul` on the native backend)
 *   native-openblas  the same backend with GEMM sent to the system OpenBLAS (when present)
 *   numpy   numpy's BLAS (OpenBLAS on our machines), via kernels_numpy.py
 *   wasm    @tensorflow/tfjs-backend-wasm (single-threaded under Node)
 *   cpu     @tensorflow/tfjs-backend-cpu, at 1024 only (it is slow)
 * plus the transposed-B product at 1024 (`gflops_1024_tb`), which tfjs wasm runs far slower.
 * Metrics are `gflops_<n>`. Systems take turns size by size, and each figure is the best of its
 * reps: on a shared 2-core machine that is the least disturbed by other processes.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { nativeInfo, setNativeBlas } from '@sentencelab/backend-native';
import { initBackend, type BackendChoice } from '@sentencelab/tensor';
import { machineInfo, printTable, type BenchFigure, type BenchResult } from '../result.js';
import { options } from '../options.js';

export const usage = `pnpm bench kernels [options]
  Square float32 GEMM (n x n) in GFLOP/s: native built-in, native -> OpenBLAS, numpy, tfjs wasm, tfjs cpu.
  --sizes LIST   sides n, comma-separated (default 256,512,1024,2048)
  --reps N       products per system and size, best kept (default 5)
  --threads N    native kernel threads (default: all cores)
  --no-numpy     skip numpy
  --no-wasm      skip tfjs wasm
  --no-cpu       skip tfjs cpu (1024 only)`;

interface Args {
  sizes: number[];
  reps: number;
  threads: number | undefined;
  numpy: boolean;
  wasm: boolean;
  cpu: boolean;
}

function parseArgs(args: string[]): Args {
  const out: Args = { sizes: [256, 512, 1024, 2048], reps: 5, threads: undefined, numpy: true, wasm: true, cpu: true };
  for (const o of options('kernels', args)) {
    if (o.name === '--sizes') {
      const v = o.value();
      out.sizes = v.split(',').map(Number);
      if (out.sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`kernels: --sizes must be positive integers, got "${v}"`);
    } else if (o.name === '--reps') out.reps = o.count();
    else if (o.name === '--threads') out.threads = o.count();
    else if (o.name === '--no-numpy') out.numpy = false;
    else if (o.name === '--no-wasm') out.wasm = false;
    else if (o.name === '--no-cpu') out.cpu = false;
    else o.unknown();
  }
  return out;
}

/** Best GFLOP/s over reps of A op(B) on the active backend; reps shrink for slow backends. */
export function gemmGflops(n: number, reps: number, transposeB = false): number {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const once = () => {
    const t0 = performance.now();
    // CPU backends (native, wasm, cpu) finish the kernel inside matMul; reading the result back
    // would only add a copy-out (and keep native from recycling the output buffer).
    const c = tf.matMul(a, b, false, transposeB);
    const ms = performance.now() - t0;
    c.dispose();
    return ms;
  };
  const first = once();
  // Keep each system under ~10 s per size.
  const count = Math.max(1, Math.min(reps, Math.floor(10_000 / Math.max(first, 1))));
  const times = Array.from({ length: count }, once);
  tf.dispose([a, b]);
  return (2 * n ** 3) / (Math.min(...times) / 1e3) / 1e9;
}

/**
 * Runs a numpy script of this folder with the first of `pythons` that can (Debian's
 * /usr/bin/python3 has numpy + the system OpenBLAS), without the environment's OpenBLAS pins
 * (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE slow it down). Returns the script's last stdout line
 * parsed as JSON and the python that ran it, or why none could.
 */
export function runNumpy<T>(script: string, args: string[], pythons: string[]): { python: string; out: T } | string {
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const reasons: string[] = [];
  for (const python of pythons) {
    const r = spawnSync(python, [path, ...args], { encoding: 'utf8', env, timeout: 300_000 });
    if (r.status === 0) return { python, out: JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T };
    reasons.push(`${python}: ${(r.stderr || String(r.error ?? '')).trim().split('\n').at(-1)}`);
  }
  return reasons.join('; ');
}

/** numpy through /usr/bin/python3 (Debian numpy + system OpenBLAS) or python3 on PATH. */
function numpyGflops(sizes: number[], reps: number): { python: string; blas: string; gflops: Record<string, number> } | string {
  const r = runNumpy<{ blas: string; gflops: Record<string, number> }>('kernels_numpy.py', [sizes.join(','), String(reps)], ['/usr/bin/python3', 'python3']);
  return typeof r === 'string' ? r : { python: r.python, ...r.out };
}

export async function run(args: string[]): Promise<BenchResult> {
  const opts = parseArgs(args);
  const results: BenchFigure[] = [];
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  const record = (system: string, n: number | string, value: number) => {
    results.push({ system, metric: `gflops_${n}`, value: Math.round(value * 10) / 10 });
    rows.push([system, String(n), value]);
  };
  const ready = new Map<BackendChoice, boolean>();
  const use = async (name: BackendChoice): Promise<boolean> => {
    try {
      await initBackend(name, { log: false, ...(name === 'native' && opts.threads !== undefined ? { threads: opts.threads } : {}) });
      ready.set(name, true);
    } catch (e) {
      if (!ready.has(name)) notes.push(`${name} skipped: ${(e as Error).message}`);
      ready.set(name, false);
    }
    return ready.get(name)!;
  };
  let numpyInfo: Record<string, unknown> = {};
  let numpyOk = opts.numpy;
  let openblas = false;
  if (await use('native')) {
    try {
      setNativeBlas('openblas');
      setNativeBlas('builtin');
      openblas = true;
      if (process.env.OPENBLAS_CORETYPE) notes.push(`native-openblas runs with OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE} from the environment (numpy runs without it)`);
    } catch (e) {
      notes.push(`native-openblas skipped: ${(e as Error).message}`);
    }
  }
  const measure = async (n: number | '1024_tb') => {
    const size = n === '1024_tb' ? 1024 : n;
    const tb = n === '1024_tb';
    if (await use('native')) {
      record('native', n, gemmGflops(size, opts.reps, tb));
      if (openblas) {
        setNativeBlas('openblas');
        record('native-openblas', n, gemmGflops(size, opts.reps, tb));
        setNativeBlas('builtin');
      }
    }
    if (numpyOk && !tb) {
      const np = numpyGflops([size], opts.reps);
      if (typeof np === 'string') {
        notes.push(`numpy skipped: ${np}`);
        numpyOk = false;
      } else {
        numpyInfo = { python: np.python, blas: np.blas };
        record('numpy', n, np.gflops[String(size)]!);
      }
    }
    if (opts.wasm && (await use('wasm'))) record('wasm', n, gemmGflops(size, opts.reps, tb));
    if (opts.cpu && n === 1024 && (await use('cpu'))) record('cpu', n, gemmGflops(size, 1, tb));
  };
  for (const n of opts.sizes) await measure(n);
  if (opts.sizes.includes(1024)) await measure('1024_tb');
  rows.sort((p, q) => String(p[0]).localeCompare(String(q[0]))); // stable: sizes stay in order

  printTable(['system', 'n', 'GFLOP/s'], rows);
  const native = results.find((r) => r.system === 'native' && r.metric === 'gflops_1024');
  const blas = results.find((r) => r.system === 'numpy' && r.metric === 'gflops_1024');
  if (native && blas) console.log(`native / numpy at 1024: ${((100 * native.value) / blas.value).toFixed(0)}% (target >= 70%)`);
  for (const note of notes) console.log(note);
  const info = nativeInfo();
  return {
    bench: 'kernels',
    machine: machineInfo(),
    config: {
      sizes: opts.sizes,
      reps: opts.reps,
      stat: 'best of reps',
      native: info.available ? { simd: info.simd, threads: info.threads, tile: info.gemmTile, kernel: 'built-in' } : { unavailable: info.reason },
      numpy: numpyInfo,
      notes,
    },
    results,
  };
}
