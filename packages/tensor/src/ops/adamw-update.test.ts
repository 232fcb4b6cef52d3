import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng.js';
import { AdamW } from '../train/adamw.js';
import { inPlaceGroupCapacity, slotsConflict } from '../webgpu/adamw-group.js';
import { AdamWInPlaceBatch, adamwUpdate, adamwUpdateInPlace, type AdamWScalars } from './adamw-update.js';
import { webgpu, why } from './compare.testkit.js';

// Grouped in-place AdamW (several parameters per dispatch on webgpu) against one step per
// parameter, the way AdamW ran before grouping: same bits, fewer dispatches.

// Sizes around the 64-wide workgroup (1, 60, 65, 130, 150) so slots end mid-workgroup.
const shapes = [[5, 30], [7], [3, 4, 5], [7], [130], [65], [1]];
const decayed = [true, false, true, false, false, true, false];

interface Setup {
  names: string[];
  params: tf.Variable[];
  grads: tf.Tensor[][]; // [step][param]
  /** Moments for the per-parameter reference (the optimizer keeps its own). */
  m: tf.Variable[];
  v: tf.Variable[];
}

function setup(seed: number, steps: number, shareGrad = false): Setup {
  const rng = new Rng(seed);
  const params = shapes.map((s) => owned(tf.tensor(rng.normalArray(tf.util.sizeFromShape(s)), s)));
  const grads = Array.from({ length: steps }, () => shapes.map((s) => tf.tensor(rng.normalArray(tf.util.sizeFromShape(s), 0, 0.5), s)));
  // Parameters 1 and 3 both read one gradient tensor (a read-only binding twice in one dispatch).
  if (shareGrad) {
    for (const gs of grads) {
      gs[3]!.dispose();
      gs[3] = gs[1]!;
    }
  }
  return { names: shapes.map((_, i) => `p${i}`), params, grads, m: params.map(zeros), v: params.map(zeros) };
}

const options = { lr: 0.05, weightDecay: 0.1, decay: (n: string) => decayed[Number(n.slice(1))]! };

// A variable owning the buffer of `t` alone (t is disposed), as the optimizer's moments do.
function owned(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t, false);
  t.dispose();
  return v;
}

const zeros = (p: tf.Tensor): tf.Variable => owned(tf.zerosLike(p));

// The scalars of step t for parameter i, as AdamW computes them.
function scalarsAt(t: number, i: number): AdamWScalars {
  const lr = options.lr / t;
  const decay = decayed[i] === true ? 1 - lr * options.weightDecay : 1;
  return { beta1: 0.9, beta2: 0.999, eps: 1e-8, lr, bc1: 1 - Math.pow(0.9, t), bc2: 1 - Math.pow(0.999, t), decay };
}

// One step of the optimizer's loop before grouping, on u.m and u.v: each parameter in place
// where it can be, else three new tensors.
function perParameterStep(u: Setup, t: number): void {
  u.params.forEach((p, i) => {
    const scalars = scalarsAt(t, i);
    const g = u.grads[t - 1]![i]!;
    if (adamwUpdateInPlace(p, u.m[i]!, u.v[i]!, g, scalars)) return;
    const next = adamwUpdate(p, u.m[i]!, u.v[i]!, g, scalars);
    p.assign(next.p);
    u.m[i]!.assign(next.m);
    u.v[i]!.assign(next.v);
    tf.dispose([next.p, next.m, next.v]);
  });
}

function perParameter(u: Setup, steps: number): tf.Tensor[] {
  for (let t = 1; t <= steps; t++) perParameterStep(u, t);
  return [...u.params, ...u.m, ...u.v];
}

function withOptimizer(u: Setup, steps: number): tf.Tensor[] {
  const opt = new AdamW(u.names.map((n, i) => [n, u.params[i]!]), options);
  for (let t = 1; t <= steps; t++) opt.applyGradients(new Map(u.names.map((n, i) => [n, u.grads[t - 1]![i]!])), options.lr / t);
  const { m, v } = opt.getState();
  return [...u.params, ...u.names.map((n) => m.get(n)!), ...u.names.map((n) => v.get(n)!)];
}

// Runs `how` on webgpu, returns every parameter and moment as read back, and disposes everything.
async function run(how: (u: Setup) => tf.Tensor[] | Promise<tf.Tensor[]>, seed: number, steps: number, shareGrad = false): Promise<number[][]> {
  await tf.setBackend('webgpu');
  const before = tf.memory().numTensors;
  const u = setup(seed, steps, shareGrad);
  const out = await how(u);
  const data = await Promise.all(out.map(async (t) => Array.from(await t.data())));
  tf.dispose([...new Set([...out, ...u.params, ...u.grads.flat(), ...u.m, ...u.v])]);
  expect(tf.memory().numTensors).toBe(before);
  return data;
}

// Counts GPU compute dispatches recorded while `fn` runs.
function countDispatches(fn: () => void): number {
  const proto = (globalThis as unknown as { GPUComputePassEncoder: { prototype: { dispatchWorkgroups: (...a: unknown[]) => void } } }).GPUComputePassEncoder.prototype;
  const original = proto.dispatchWorkgroups;
  let n = 0;
  proto.dispatchWorkgroups = function (this: unknown, ...a: unknown[]) {
    n++;
    original.apply(this, a);
  };
  try {
    fn();
  } finally {
    proto.dispatchWorkgroups = original;
  }
  return n;
}

// Kernels of in-place runs of `lengths` consecutive parameters, `size` per dispatch (a lone one per-parameter).
function groupedKernels(length: number, size: number): string[] {
  const groups = Math.ceil(length / size);
  const lone = length % size === 1 ? 1 : 0;
  return [...Array<string>(groups - lone).fill('SlAdamWGroupInPlace'), ...Array<string>(lone).fill('SlAdamWInPlace')];
}

describe('slotsConflict', () => {
  const t = () => tf.tensor1d([1]);
  const [p, m, v, g, p2, m2, v2] = [t(), t(), t(), t(), t(), t(), t()];
  afterAll(() => tf.dispose([p, m, v, g, p2, m2, v2]));

  it('lets parameters share a gradient but not a written buffer', () => {
    const group = [{ p, m, v, g }];
    expect(slotsConflict(group, { p: p2, m: m2, v: v2, g })).toBe(false);
    expect(slotsConflict(group, { p, m: m2, v: v2, g })).toBe(true); // one parameter twice
    expect(slotsConflict(group, { p: p2, m: m2, v: v2, g: p })).toBe(true); // reads a buffer the group writes
    expect(slotsConflict(group, { p: g, m: m2, v: v2, g: p2 })).toBe(true); // writes a buffer the group reads
    expect(slotsConflict([], { p, m, v, g })).toBe(false);
  });
});

describe('AdamW in place, several parameters per dispatch', () => {
  it('changes nothing on cpu: the batch refuses and the optimizer computes what one step per parameter does', async () => {
    await tf.setBackend('cpu');
    const w = tf.variable(tf.tensor1d([1, 2]));
    const [m, v, g] = [zeros(w), zeros(w), tf.tensor1d([0.5, -1])];
    expect(new AdamWInPlaceBatch({ beta1: 0.9, beta2: 0.999, eps: 1e-8, lr: 0.1, bc1: 0.1, bc2: 0.001 }).add({ p: w, m, v, g, decay: 1 })).toBe(false);
    tf.dispose([w, m, v, g]);
    const u1 = setup(5, 3);
    const want = await Promise.all(perParameter(u1, 3).map(async (t) => Array.from(await t.data())));
    const u2 = setup(5, 3);
    const got = await Promise.all(withOptimizer(u2, 3).map(async (t) => Array.from(await t.data())));
    expect(got).toEqual(want);
    tf.dispose([u1, u2].flatMap((u) => [...u.params, ...u.grads.flat(), ...u.m, ...u.v]));
  });

  it.skipIf(!webgpu.ok)(`matches one step per parameter bit for bit, decayed and undecayed parameters mixed in a group (${why})`, async () => {
    const want = await run((u) => perParameter(u, 3), 7, 3);
    expect(await run((u) => withOptimizer(u, 3), 7, 3)).toEqual(want);
    // A shared gradient buffer is bound twice (read-only) in one dispatch.
    const wantShared = await run((u) => perParameter(u, 2), 8, 2, true);
    expect(await run((u) => withOptimizer(u, 2), 8, 2, true)).toEqual(wantShared);
  }, 120_000);

  it.skipIf(!webgpu.ok)(`records ceil(parameters / group) dispatches, a group size not dividing the count included (${why})`, async () => {
    await tf.setBackend('webgpu');
    const capacity = inPlaceGroupCapacity(tf.backend());
    expect(capacity).toBeGreaterThanOrEqual(2); // WebGPU guarantees 8 storage buffers per stage
    const want = await run((u) => perParameter(u, 1), 9, 1);
    for (const perDispatch of [2, 3, capacity]) {
      await tf.setBackend('webgpu');
      const before = tf.memory().numTensors;
      const u = setup(9, 1);
      const { m, v } = u;
      const { decay: _, ...shared } = scalarsAt(1, 0);
      const batch = new AdamWInPlaceBatch(shared, perDispatch);
      let dispatches = 0;
      const info = await tf.profile(() => {
        dispatches = countDispatches(() => {
          u.params.forEach((p, i) => expect(batch.add({ p, m: m[i]!, v: v[i]!, g: u.grads[0]![i]!, decay: scalarsAt(1, i).decay })).toBe(true));
          batch.flush();
        });
      });
      const got = await Promise.all([...u.params, ...m, ...v].map(async (t) => Array.from(await t.data())));
      tf.dispose([...u.params, ...m, ...v, ...u.grads.flat()]);
      expect(tf.memory().numTensors).toBe(before);
      expect(got).toEqual(want);
      const size = Math.min(perDispatch, capacity);
      expect(dispatches).toBe(Math.ceil(shapes.length / size));
      expect(info.kernels.map((k) => k.name)).toEqual(groupedKernels(shapes.length, size));
    }
  }, 120_000);

  it.skipIf(!webgpu.ok)(`falls back for a parameter whose buffer a clone shares, grouping the others around it (${why})`, async () => {
    let kernels: string[] = [];
    // Step 1 grouped, then a clone of parameter 2 before step 2 (the clone keeps the old value).
    const steps = (grouped: boolean) => async (u: Setup): Promise<tf.Tensor[]> => {
      const opt = grouped ? new AdamW(u.names.map((n, i) => [n, u.params[i]!]), options) : undefined;
      const one = (t: number) => (opt === undefined ? perParameterStep(u, t) : opt.applyGradients(new Map(u.names.map((n, i) => [n, u.grads[t - 1]![i]!])), options.lr / t));
      one(1);
      const clone = tf.clone(u.params[2]!);
      const info = await tf.profile(() => one(2));
      if (grouped) kernels = info.kernels.map((k) => k.name);
      const state = opt?.getState();
      const moments = state === undefined ? [...u.m, ...u.v] : [...u.names.map((n) => state.m.get(n)!), ...u.names.map((n) => state.v.get(n)!)];
      return [...u.params, ...moments, clone];
    };
    const want = await run(steps(false), 10, 2);
    const got = await run(steps(true), 10, 2);
    expect(got).toEqual(want);
    await tf.setBackend('webgpu');
    const capacity = inPlaceGroupCapacity(tf.backend());
    expect(kernels).toEqual([...groupedKernels(2, capacity), 'SlAdamW', ...groupedKernels(shapes.length - 3, capacity)]);
  }, 120_000);
});
