/**
 * `pnpm bench train-step [--backends wasm,native,cpu] [--steps N] [--cpu-steps N] [--size tiny|large] [--no-torch]`
 *
 * One training step (forward, backward, AdamW) of a small GPT built from @sentencelab/tensor
 * blocks, on every requested backend, median ms/step; plus the same model in PyTorch
 * (train_step_torch.py) when `/usr/bin/python3 -c "import torch"` works, with the ratio.
 * Also reports process CPU ms per step (`cpu_ms_per_step`), steadier than wall time on a
 * shared machine (torch's counts both of its threads).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  AdamW, Embedding, LearnedPositionalEmbedding, Linear, Module, Rng, TransformerStack,
  crossEntropy, disposeGrads, initBackend, valueAndGrads, type BackendChoice,
} from '@sentencelab/tensor';
import { machineInfo, median, printTable, type BenchFigure, type BenchResult } from '../result.js';

export const sizes = {
  tiny: { vocab: 512, dModel: 256, seq: 128, batch: 8, layers: 2, heads: 4 },
  large: { vocab: 4096, dModel: 512, seq: 256, batch: 32, layers: 4, heads: 8 },
} as const;
export type GptSize = (typeof sizes)[keyof typeof sizes];

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

interface Args {
  backends: string[] | undefined;
  steps: number;
  cpuSteps: number;
  size: keyof typeof sizes;
  torch: boolean;
}

function parseArgs(args: string[]): Args {
  const out: Args = { backends: undefined, steps: 5, cpuSteps: 1, size: 'tiny', torch: true };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`train-step: ${a} needs a value`);
      return v;
    };
    const count = (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`train-step: ${a} must be a positive integer, got "${v}"`);
      return n;
    };
    if (a === '--backends') out.backends = value().split(',').filter((b) => b !== '');
    else if (a === '--steps') out.steps = count(value());
    else if (a === '--cpu-steps') out.cpuSteps = count(value());
    else if (a === '--size') {
      const s = value();
      if (s !== 'tiny' && s !== 'large') throw new Error(`train-step: --size must be tiny or large, got "${s}"`);
      out.size = s;
    } else if (a === '--no-torch') out.torch = false;
    else throw new Error(`train-step: unknown option "${a}" (options: --backends, --steps, --cpu-steps, --size, --no-torch)`);
  }
  return out;
}

interface StepTimes {
  wall: number[];
  /** Process CPU time (user + system) per step: less sensitive than wall time to a busy machine. */
  cpu: number[];
}

/** Times `steps` training steps after one warm-up step (skipped when warmup is false). */
function timeSteps(c: GptSize, steps: number, warmup: boolean): StepTimes {
  const rng = new Rng(0);
  const model = new BenchGPT(c, rng);
  const opt = new AdamW(model.namedParameters(), { lr: 3e-4, weightDecay: 0.01 });
  const n = c.batch * c.seq;
  const ids = tf.tensor2d(Int32Array.from({ length: n }, () => rng.int(c.vocab)), [c.batch, c.seq], 'int32');
  const targets = tf.tensor2d(Int32Array.from({ length: n }, () => rng.int(c.vocab)), [c.batch, c.seq], 'int32');
  const step = () => {
    const { grads } = valueAndGrads(model, () => crossEntropy(model.forward(ids), targets));
    opt.applyGradients(grads);
    disposeGrads(grads);
  };
  if (warmup) step();
  const times: StepTimes = { wall: [], cpu: [] };
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    step(); // valueAndGrads reads the loss back, so the step has finished on the device
    const c1 = process.cpuUsage(c0);
    times.wall.push(performance.now() - t0);
    times.cpu.push((c1.user + c1.system) / 1000);
  }
  ids.dispose();
  targets.dispose();
  opt.dispose();
  model.dispose();
  return times;
}

function torchAvailable(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

function runTorch(size: string, steps: number): { ms: number; cpuMs: number } {
  const script = fileURLToPath(new URL('./train_step_torch.py', import.meta.url));
  const r = spawnSync('/usr/bin/python3', [script, '--size', size, '--steps', String(steps)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`train_step_torch.py failed (exit ${r.status}): ${r.stderr.trim().split('\n').at(-1)}`);
  const last = r.stdout.trim().split('\n').at(-1)!;
  const r2 = JSON.parse(last) as { ms_per_step: number; cpu_ms_per_step: number };
  return { ms: r2.ms_per_step, cpuMs: r2.cpu_ms_per_step };
}

/** Backends that cannot run the large step here, and why (measured, not assumed). */
const largeUnfit: Record<string, string> = {
  wasm: 'the step needs more than the wasm heap limit of 4 GB (it aborts inside an XNNPACK allocation); use webgpu or native',
  cpu: 'the tfjs cpu backend would need hours per step (the tiny step alone takes ~35-60 s)',
};

export async function run(args: string[]): Promise<BenchResult> {
  const a = parseArgs(args);
  const c = sizes[a.size];
  const requested = a.backends ?? ['native', 'wasm', 'cpu'];
  const rows: { system: string; ms: number; cpuMs: number; steps: number }[] = [];
  const skipped: string[] = [];
  for (const b of requested) {
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
    const steps = b === 'cpu' ? a.cpuSteps : a.steps;
    console.error(`train-step: ${b}, ${steps} step(s)${b === 'cpu' ? ' (no warm-up: ~35 s each)' : ' after 1 warm-up'}...`);
    const t = timeSteps(c, steps, b !== 'cpu');
    rows.push({ system: b, ms: median(t.wall), cpuMs: median(t.cpu), steps });
  }
  for (const s of skipped) console.error(`skipped ${s}`);
  if (a.torch) {
    if (torchAvailable()) rows.push({ system: 'torch', ...runTorch(a.size, a.steps), steps: a.steps });
    else console.error('skipped torch: /usr/bin/python3 cannot import torch');
  }
  const torch = rows.find((r) => r.system === 'torch');
  printTable(
    ['system', 'ms/step', 'x torch', 'cpu ms/step', 'x torch (cpu)', 'steps'],
    rows.map((r) => [
      r.system, r.ms, torch === undefined ? '-' : (r.ms / torch.ms).toFixed(1),
      r.cpuMs, torch === undefined ? '-' : (r.cpuMs / torch.cpuMs).toFixed(1), String(r.steps),
    ]),
  );
  const round = (x: number) => Math.round(x * 10) / 10;
  const results: BenchFigure[] = rows.flatMap((r) => [
    { system: r.system, metric: 'ms_per_step', value: round(r.ms) },
    { system: r.system, metric: 'cpu_ms_per_step', value: round(r.cpuMs) },
  ]);
  return { bench: 'train-step', machine: machineInfo(), config: { size: a.size, ...c, optimizer: 'adamw', steps: a.steps, cpu_steps: a.cpuSteps }, results };
}
