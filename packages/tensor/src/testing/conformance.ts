/**
 * Backend conformance: the same blocks, seeds and inputs run on `cpu` (the reference backend)
 * and on the backend under test; outputs and gradients (of sum(out * r), r fixed) must agree.
 * Every case also carries a float64 reference so blocks.test.ts can check values and
 * finite-difference gradients independently of tfjs.
 *
 * Use from another package's test (e.g. backend-native):
 *   import { conformanceCases, runConformanceCase } from '@sentencelab/tensor/testing';
 *   for (const c of conformanceCases) it(c.name, () => runConformanceCase(c, 'native'));
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendChoice } from '../backend.js';
import { Embedding } from '../layers/embedding.js';
import { Linear } from '../layers/linear.js';
import { MLP } from '../layers/mlp.js';
import { LayerNorm, RMSNorm } from '../layers/norm.js';
import { MultiHeadAttention } from '../layers/attention.js';
import { TimestepEmbedder } from '../layers/timestep.js';
import { TransformerBlock } from '../layers/transformer-block.js';
import { TransformerStack } from '../layers/transformer-stack.js';
import { Module } from '../module.js';
import { Rng } from '../rng.js';
import { variableGrads } from '../train/backward.js';
import { crossEntropy } from '../train/losses.js';
import {
  arr, attentionRef, blockRef, crossEntropyRef, embeddingRef, layerNormRef, linearRef, mlpRef, rmsNormRef, siluRef,
  type Arr, type Params,
} from './reference.js';

/** A float input (differentiated) or an integer/boolean one (not). */
export interface CaseInput {
  shape: number[];
  values: number[];
  dtype: 'float32' | 'int32' | 'bool';
}

export interface ConformanceCase {
  name: string;
  build(rng: Rng): {
    module: Module;
    inputs: Record<string, CaseInput>;
    /** Forward on tensors built from `inputs`. */
    forward(t: Record<string, tf.Tensor>): tf.Tensor;
    /** The same computation in float64 JS. */
    reference(p: Params, x: Record<string, Arr>): Arr;
  };
}

function floats(rng: Rng, shape: number[], scale = 1): CaseInput {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, values: Array.from(rng.normalArray(n, 0, scale)), dtype: 'float32' };
}
const ints = (shape: number[], values: number[]): CaseInput => ({ shape, values, dtype: 'int32' });
const bools = (rows: number[][]): CaseInput => ({ shape: [rows.length, rows[0]!.length], values: rows.flat(), dtype: 'bool' });
const asBool = (c: CaseInput) => {
  const cols = c.shape[1]!;
  return Array.from({ length: c.shape[0]! }, (_, r) => c.values.slice(r * cols, (r + 1) * cols).map((v) => v !== 0));
};
/** Init std large enough that attention patterns and nonlinearities are far from trivial. */
const w = { kind: 'normal' as const, std: 0.4 };

const keyMaskRows = [[1, 1, 1, 1], [1, 0, 1, 1]];

export const conformanceCases: ConformanceCase[] = [
  {
    name: 'Linear',
    build: (rng) => ({
      module: new Linear({ inFeatures: 5, outFeatures: 3, init: w, rng }),
      inputs: { x: floats(rng, [2, 3, 5]) },
      forward(this: { module: Linear }, t) {
        return this.module.forward(t.x!);
      },
      reference: (p, x) => linearRef(x.x!, p, ''),
    }),
  },
  {
    name: 'Embedding + tied projection',
    build: (rng) => {
      const inputs = { ids: ints([2, 3], [0, 6, 2, 6, 6, 1]) };
      return {
        module: new Embedding({ numEmbeddings: 7, dim: 4, init: w, rng }),
        inputs,
        forward(this: { module: Embedding }, t) {
          return this.module.project(this.module.forward(t.ids!));
        },
        reference: (p) => {
          const e = embeddingRef(inputs.ids.values, [2, 3], p, '');
          const table = p.get('weight')!;
          const wt = arr([4, 7]);
          for (let v = 0; v < 7; v++) for (let k = 0; k < 4; k++) wt.data[k * 7 + v] = table.data[v * 4 + k]!;
          return linearRef(e, new Map([['weight', wt]]), '');
        },
      };
    },
  },
  {
    name: 'LayerNorm',
    build: (rng) => {
      const m = new LayerNorm({ dim: 6, rng });
      m.loadParameters({ weight: tf.tensor1d(rng.normalArray(6, 1, 0.3)), bias: tf.tensor1d(rng.normalArray(6, 0, 0.3)) });
      return { module: m, inputs: { x: floats(rng, [2, 3, 6]) }, forward: (t) => m.forward(t.x!), reference: (p, x) => layerNormRef(x.x!, p, '') };
    },
  },
  {
    name: 'RMSNorm',
    build: (rng) => {
      const m = new RMSNorm({ dim: 6, rng });
      m.loadParameters({ weight: tf.tensor1d(rng.normalArray(6, 1, 0.3)) });
      return { module: m, inputs: { x: floats(rng, [2, 3, 6]) }, forward: (t) => m.forward(t.x!), reference: (p, x) => rmsNormRef(x.x!, p, '') };
    },
  },
  ...(['relu', 'gelu', 'swiglu'] as const).map(
    (activation): ConformanceCase => ({
      name: `MLP ${activation}`,
      build: (rng) => {
        const m = new MLP({ dModel: 4, hidden: 6, activation, init: w, rng });
        return { module: m, inputs: { x: floats(rng, [2, 3, 4]) }, forward: (t) => m.forward(t.x!), reference: (p, x) => mlpRef(x.x!, p, '', activation) };
      },
    }),
  ),
  {
    name: 'MultiHeadAttention self, causal + key padding',
    build: (rng) => {
      const m = new MultiHeadAttention({ dModel: 8, numHeads: 2, init: w, rng });
      const inputs = { x: floats(rng, [2, 4, 8]), keyMask: bools(keyMaskRows) };
      return {
        module: m,
        inputs,
        forward: (t) => m.forward(t.x!, { causal: true, keyMask: t.keyMask }),
        reference: (p, x) => attentionRef(x.x!, p, '', { numHeads: 2, causal: true, keyMask: asBool(inputs.keyMask) }),
      };
    },
  },
  {
    name: 'MultiHeadAttention rotary, custom mask',
    build: (rng) => {
      const m = new MultiHeadAttention({ dModel: 8, numHeads: 2, rotary: true, init: w, rng });
      const allowed = (b: number, i: number, j: number) => (i + j + b) % 3 !== 1 || i === j;
      const maskValues = [0, 1].flatMap((b) => [0, 1, 2, 3].flatMap((i) => [0, 1, 2, 3].map((j) => (allowed(b, i, j) ? 1 : 0))));
      const inputs = { x: floats(rng, [2, 4, 8]), mask: { shape: [2, 4, 4], values: maskValues, dtype: 'bool' as const } };
      return {
        module: m,
        inputs,
        forward: (t) => m.forward(t.x!, { mask: t.mask }),
        reference: (p, x) => attentionRef(x.x!, p, '', { numHeads: 2, rotary: true, mask: allowed }),
      };
    },
  },
  {
    name: 'MultiHeadAttention cross, context padding',
    build: (rng) => {
      const m = new MultiHeadAttention({ dModel: 8, numHeads: 2, contextDim: 6, init: w, rng });
      const inputs = { x: floats(rng, [2, 3, 8]), context: floats(rng, [2, 4, 6]), keyMask: bools(keyMaskRows) };
      return {
        module: m,
        inputs,
        forward: (t) => m.forward(t.x!, { context: t.context, keyMask: t.keyMask }),
        reference: (p, x) => attentionRef(x.x!, p, '', { numHeads: 2, context: x.context, keyMask: asBool(inputs.keyMask) }),
      };
    },
  },
  ...(
    [
      { label: 'pre-norm LayerNorm GELU, causal', norm: 'layer', prenorm: true, activation: 'gelu', causal: true },
      { label: 'post-norm RMSNorm ReLU, key padding', norm: 'rms', prenorm: false, activation: 'relu', keyMask: true },
      { label: 'pre-norm cross-attention SwiGLU', norm: 'layer', prenorm: true, activation: 'swiglu', cross: true, causal: true },
      { label: 'AdaLN-zero', norm: 'layer', prenorm: true, activation: 'gelu', adaLN: true },
    ] as const
  ).map(
    (o): ConformanceCase => ({
      name: `TransformerBlock ${o.label}`,
      build: (rng) => {
        const cross = 'cross' in o;
        const adaLN = 'adaLN' in o;
        const m = new TransformerBlock({
          dModel: 8, numHeads: 2, mlpHidden: 12, norm: o.norm, prenorm: o.prenorm, activation: o.activation,
          crossAttention: cross, contextDim: 6, adaLNCondDim: adaLN ? 5 : undefined, init: w, rng,
        });
        if (adaLN) {
          // Zero init would hide every path through the modulation; give it values.
          const proj = m.adaLN!.proj;
          proj.loadParameters({ weight: tf.tensor(rng.normalArray(5 * 48, 0, 0.4), [5, 48]), bias: tf.tensor1d(rng.normalArray(48, 0, 0.4)) });
        }
        const inputs: Record<string, CaseInput> = { x: floats(rng, [2, 4, 8]) };
        if ('keyMask' in o) inputs.keyMask = bools(keyMaskRows);
        if (cross) inputs.context = floats(rng, [2, 3, 6]);
        if (adaLN) inputs.cond = floats(rng, [2, 5]);
        return {
          module: m,
          inputs,
          forward: (t) => m.forward(t.x!, { causal: 'causal' in o, keyMask: t.keyMask, context: t.context, cond: t.cond }),
          reference: (p, x) =>
            blockRef(x.x!, p, '', {
              numHeads: 2, norm: o.norm, prenorm: o.prenorm, activation: o.activation, causal: 'causal' in o,
              keyMask: inputs.keyMask === undefined ? undefined : asBool(inputs.keyMask), context: x.context, cond: x.cond,
            }),
        };
      },
    }),
  ),
  {
    name: 'TimestepEmbedder',
    build: (rng) => {
      const m = new TimestepEmbedder({ dim: 6, frequencyDim: 8, rng });
      const inputs = { t: { shape: [3], values: [0, 3.5, 25], dtype: 'float32' as const } };
      return {
        module: m,
        inputs,
        forward: (t) => m.forward(t.t!),
        reference: (p, x) => {
          const feats = arr([3, 8]);
          x.t!.data.forEach((tv, b) => {
            for (let i = 0; i < 4; i++) {
              const a = tv * Math.exp((-Math.log(10000) * i) / 4);
              feats.data[b * 8 + i] = Math.cos(a);
              feats.data[b * 8 + 4 + i] = Math.sin(a);
            }
          });
          return linearRef(siluRef(linearRef(feats, p, 'fc1.')), p, 'fc2.');
        },
      };
    },
  },
  {
    name: 'Tiny GPT loss (embedding, 2-layer stack, tied head, cross-entropy)',
    build: (rng) => {
      class Gpt extends Module {
        readonly tok = this.addModule('tok', new Embedding({ numEmbeddings: 9, dim: 8, init: w, rng }));
        readonly stack = this.addModule('stack', new TransformerStack({ numLayers: 2, dModel: 8, numHeads: 2, mlpHidden: 16, init: w, rng }));
      }
      const m = new Gpt();
      const ids = [1, 5, 8, 2, 0, 3, 3, 7];
      const targets = [5, 8, 2, -1, 3, 3, 7, 1];
      return {
        module: m,
        inputs: { ids: ints([2, 4], ids), targets: ints([2, 4], targets) },
        forward: (t) => crossEntropy(m.tok.project(m.stack.forward(m.tok.forward(t.ids!), { causal: true })), t.targets!),
        reference: (p) => {
          let h = embeddingRef(ids, [2, 4], p, 'tok.');
          for (let l = 0; l < 2; l++) h = blockRef(h, p, `stack.layers.${l}.`, { numHeads: 2, norm: 'layer', prenorm: true, activation: 'gelu', causal: true });
          h = layerNormRef(h, p, 'stack.norm.');
          const table = p.get('tok.weight')!;
          const wt = arr([8, 9]);
          for (let v = 0; v < 9; v++) for (let k = 0; k < 8; k++) wt.data[k * 9 + v] = table.data[v * 8 + k]!;
          return arr([], [crossEntropyRef(linearRef(h, new Map([['weight', wt]]), ''), targets)]);
        },
      };
    },
  },
];

export interface CaseResult {
  output: Float32Array;
  outputShape: number[];
  /** Gradients of sum(output * r) by parameter name, and by `input.<name>` for float inputs. */
  grads: Map<string, Float32Array>;
}

/** Fixed weights r for the scalar loss sum(output * r). */
export function lossWeights(size: number): Float32Array {
  return new Rng(123).normalArray(size);
}

/** Runs one case on the current backend (seed fixed, so every backend sees the same numbers). */
export async function evaluateCase(c: ConformanceCase, seed = 0): Promise<CaseResult> {
  const built = c.build(new Rng(seed));
  const { module } = built;
  const forward = built.forward.bind(built);
  const inputVars = new Map<string, tf.Variable>();
  const fixed: Record<string, tf.Tensor> = {};
  for (const [name, inp] of Object.entries(built.inputs)) {
    const t = tf.tensor(inp.values, inp.shape, inp.dtype);
    if (inp.dtype === 'float32') {
      inputVars.set(name, tf.variable(t, true));
      t.dispose();
    } else fixed[name] = t;
  }
  const all = { ...fixed, ...Object.fromEntries(inputVars) };
  const named = [...module.namedParameters(), ...[...inputVars].map(([n, v]) => [`input.${n}`, v] as [string, tf.Variable])];
  // Reads are asynchronous: webgpu in Node has no synchronous download.
  let y: tf.Tensor | undefined;
  // The backward training uses (valueAndGrads), so every backend runs it here.
  const { value, grads } = variableGrads(() => {
    y = tf.keep(forward(all));
    return tf.sum(tf.mul(y, tf.tensor(lossWeights(y.size), y.shape))) as tf.Scalar;
  }, named.map(([, v]) => v));
  value.dispose();
  const outputShape = y!.shape;
  const output = (await y!.data()).slice() as Float32Array;
  y!.dispose();
  const out = new Map<string, Float32Array>();
  for (const [n, v] of named) {
    const g = grads[v.name];
    if (g != null) out.set(n, (await g.data()).slice() as Float32Array);
  }
  tf.dispose([...Object.values(grads)].filter((g) => g !== null));
  tf.dispose(Object.values(fixed));
  inputVars.forEach((v) => v.dispose());
  module.dispose();
  return { output, outputShape, grads: out };
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Largest |a - b| - rtol * |b| over the arrays (<= atol means they agree). */
function worst(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number): { excess: number; index: number } {
  let excess = -Infinity;
  let index = -1;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!) - rtol * Math.abs(b[i]!);
    if (!(e <= excess)) {
      excess = e;
      index = i;
    }
  }
  return { excess, index };
}

/**
 * Runs `c` on cpu and on `backend`; throws an Error naming the case, the tensor and the worst
 * element when outputs or gradients differ beyond `tol`. Leaves `backend` active.
 */
export async function runConformanceCase(c: ConformanceCase, backend: BackendChoice, tol: Tolerance = { atol: 1e-4, rtol: 1e-3 }): Promise<void> {
  await initBackend('cpu', { log: false });
  const ref = await evaluateCase(c);
  await initBackend(backend, { log: false });
  const got = await evaluateCase(c);
  const check = (what: string, a: Float32Array, b: Float32Array) => {
    if (a.length !== b.length) throw new Error(`${c.name} on ${backend}: ${what} has ${a.length} values, cpu has ${b.length}`);
    const { excess, index } = worst(a, b, tol.rtol);
    if (excess > tol.atol) throw new Error(`${c.name} on ${backend}: ${what}[${index}] = ${a[index]} but cpu gives ${b[index]}`);
  };
  check('output', got.output, ref.output);
  for (const [name, g] of ref.grads) {
    const h = got.grads.get(name);
    if (h === undefined) throw new Error(`${c.name} on ${backend}: no gradient for ${name}`);
    check(`grad ${name}`, h, g);
  }
}

/** All cases on `backend`; returns one entry per case (error message when it failed). */
export async function runConformanceSuite(backend: BackendChoice, tol?: Tolerance): Promise<Array<{ name: string; error?: string }>> {
  const out: Array<{ name: string; error?: string }> = [];
  for (const c of conformanceCases) {
    try {
      await runConformanceCase(c, backend, tol);
      out.push({ name: c.name });
    } catch (e) {
      out.push({ name: c.name, error: (e as Error).message });
    }
  }
  return out;
}
