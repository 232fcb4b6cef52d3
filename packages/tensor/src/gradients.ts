/**
 * Gradient definitions for the tfjs-core kernels our blocks (and typical model code) use.
 *
 * Why this file exists: in Node, `@tensorflow/tfjs-core` resolves to its CommonJS bundle, which
 * ships no gradients; upstream registers them from ESM files (`dist/register_all_gradients`)
 * that only a bundler can load (extensionless and directory imports). Without the umbrella
 * `@tensorflow/tfjs` package (which we must not add) `tf.grad` fails with "gradient function not
 * found". These follow tfjs/TensorFlow semantics; each is checked against finite differences in
 * gradients.test.ts. Existing registrations (e.g. from a bundler build) are left untouched.
 */
import * as tf from '@tensorflow/tfjs-core';
import { columnSum } from './ops/bias.js';
import { splitParts } from './ops/split.js';

type Grads = Record<string, () => tf.Tensor>;
type Attrs = Record<string, unknown>;
type GradFn = (dy: tf.Tensor, saved: tf.Tensor[], attrs: Attrs) => Grads;
type MultiGradFn = (dy: tf.Tensor[], saved: tf.Tensor[], attrs: Attrs) => Grads;

/** Sums dy over the axes that broadcasting added, then reshapes to `shape`. */
function unbroadcast(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, dy.shape);
  if (axes.length === 0) return tf.reshape(dy, shape);
  const lead = dy.rank - shape.length;
  const leadingOnly = axes.every((a, i) => a === i) && shape.slice(0, axes.length - lead).every((d) => d === 1);
  if (leadingOnly && dy.dtype === 'float32') {
    // Bias-style gradients (sum over all leading axes): one column-sum dispatch on webgpu, else
    // ones[1, n] @ dy[n, rest], see columnSum.
    const n = axes.reduce((p, a) => p * dy.shape[a]!, 1);
    return tf.reshape(columnSum(tf.reshape(dy, [n, -1])), shape);
  }
  return tf.reshape(tf.sum(dy, axes), shape);
}

function axisOf(axis: unknown, rank: number): number {
  const a = Array.isArray(axis) ? (axis[0] as number) : (axis as number);
  return a < 0 ? a + rank : a;
}

function axesOf(axis: unknown, shape: number[]): number[] {
  return tf.util.parseAxisParam(axis as number | number[], shape);
}

/** dy of a reduction, broadcast back to the input shape. */
function expandReduced(dy: tf.Tensor, inShape: number[], axes: number[]): tf.Tensor {
  const kept = inShape.map((d, i) => (axes.includes(i) ? 1 : d));
  // Multiplying by ones broadcasts; the wasm Tile kernel behind tf.broadcastTo measured ~4x
  // slower. tf.fill runs as a kernel, where tf.ones builds the array in JS and copies it over.
  return tf.mul(tf.reshape(dy, kept), tf.fill(inShape, 1));
}

// tf.cast to the same dtype still runs a copy kernel; skip it for float inputs.
const float = (t: tf.Tensor) => (t.dtype === 'float32' ? t : tf.cast(t, 'float32'));

const unary: Record<string, { input?: string; save?: 'x' | 'y'; fn: (dy: tf.Tensor, v: tf.Tensor, attrs: Attrs) => tf.Tensor }> = {
  Neg: { fn: (dy) => tf.neg(dy) },
  Identity: { fn: (dy) => tf.clone(dy) },
  Cast: { fn: (dy) => tf.clone(dy) },
  Square: { save: 'x', fn: (dy, x) => tf.mul(dy, tf.mul(x, 2)) },
  Sqrt: { save: 'x', fn: (dy, x) => tf.div(dy, tf.mul(tf.sqrt(float(x)), 2)) },
  Rsqrt: { save: 'x', fn: (dy, x) => tf.mul(dy, tf.mul(tf.div(tf.rsqrt(x), x), -0.5)) },
  Reciprocal: { save: 'x', fn: (dy, x) => tf.neg(tf.div(dy, tf.square(x))) },
  Exp: { save: 'y', fn: (dy, y) => tf.mul(dy, y) },
  Expm1: { save: 'x', fn: (dy, x) => tf.mul(dy, tf.exp(x)) },
  Log: { save: 'x', fn: (dy, x) => tf.div(dy, float(x)) },
  Log1p: { save: 'x', fn: (dy, x) => tf.div(dy, tf.add(x, 1)) },
  Abs: { save: 'x', fn: (dy, x) => tf.mul(dy, tf.sign(float(x))) },
  Relu: { save: 'x', fn: (dy, x) => tf.mul(dy, tf.step(float(x))) },
  LeakyRelu: { save: 'x', fn: (dy, x, a) => tf.mul(dy, tf.where(tf.greater(x, 0), tf.onesLike(x), tf.fill(x.shape, a.alpha as number))) },
  Elu: { save: 'y', fn: (dy, y) => tf.mul(dy, tf.where(tf.greater(y, 0), tf.onesLike(y), tf.add(y, 1))) },
  Relu6: { save: 'x', fn: (dy, x) => tf.mul(dy, float(tf.logicalAnd(tf.greater(x, 0), tf.less(x, 6)))) },
  Atan: { save: 'x', fn: (dy, x) => tf.div(dy, tf.add(tf.square(x), 1)) },
  Sigmoid: { save: 'y', fn: (dy, y) => tf.mul(dy, tf.mul(y, tf.sub(1, y))) },
  Tanh: { save: 'y', fn: (dy, y) => tf.mul(dy, tf.sub(1, tf.square(y))) },
  Softplus: { save: 'x', fn: (dy, x) => tf.mul(dy, tf.sigmoid(x)) },
  Erf: { save: 'x', fn: (dy, x) => tf.mul(dy, tf.mul(tf.exp(tf.neg(tf.square(x))), 2 / Math.sqrt(Math.PI))) },
  Sin: { save: 'x', fn: (dy, x) => tf.mul(dy, tf.cos(float(x))) },
  Cos: { save: 'x', fn: (dy, x) => tf.neg(tf.mul(dy, tf.sin(float(x)))) },
  Step: { fn: (dy) => tf.zerosLike(dy) },
  Sign: { fn: (dy) => tf.zerosLike(dy) },
  Round: { fn: (dy) => tf.zerosLike(dy) },
  Floor: { fn: (dy) => tf.zerosLike(dy) },
  Ceil: { fn: (dy) => tf.zerosLike(dy) },
  ZerosLike: { fn: (dy) => tf.zerosLike(dy) },
  OnesLike: { fn: (dy) => tf.zerosLike(dy) },
  ClipByValue: {
    save: 'x',
    fn: (dy, x, a) => tf.where(tf.logicalAnd(tf.greaterEqual(x, a.clipValueMin as number), tf.lessEqual(x, a.clipValueMax as number)), dy, tf.zerosLike(dy)),
  },
  Reshape: { save: 'x', fn: (dy, x) => tf.reshape(dy, x.shape) },
  Transpose: {
    fn: (dy, _v, a) => {
      const perm = a.perm as number[];
      const inv = new Array<number>(perm.length);
      perm.forEach((p, i) => (inv[p] = i));
      return tf.transpose(dy, inv);
    },
  },
  Reverse: { fn: (dy, _v, a) => tf.reverse(dy, a.dims as number[]) },
  Cumsum: {
    fn: (dy, _v, a) => tf.cumsum(dy, a.axis as number, a.exclusive as boolean, !(a.reverse as boolean)),
  },
  Sum: { save: 'x', fn: (dy, x, a) => expandReduced(dy, x.shape, axesOf(a.axis, x.shape)) },
  Mean: {
    save: 'x',
    fn: (dy, x, a) => {
      const axes = axesOf(a.axis, x.shape);
      const n = axes.reduce((p, i) => p * x.shape[i]!, 1);
      return tf.div(expandReduced(dy, x.shape, axes), n);
    },
  },
  Softmax: {
    input: 'logits',
    save: 'y',
    fn: (dy, y, a) => {
      const dim = a.dim as number;
      return tf.mul(y, tf.sub(dy, tf.sum(tf.mul(dy, y), dim, true)));
    },
  },
  LogSoftmax: {
    input: 'logits',
    save: 'y',
    fn: (dy, y, a) => tf.sub(dy, tf.mul(tf.exp(y), tf.sum(dy, a.axis as number, true))),
  },
  Tile: {
    save: 'x',
    fn: (dy, x, a) => {
      const reps = a.reps as number[];
      const split: number[] = [];
      x.shape.forEach((s, i) => split.push(reps[i]!, s));
      const repAxes = x.shape.map((_, i) => 2 * i);
      return tf.reshape(tf.sum(tf.reshape(dy, split), repAxes), x.shape);
    },
  },
  BroadcastTo: { save: 'x', fn: (dy, x) => unbroadcast(dy, x.shape) },
  Slice: {
    save: 'x',
    fn: (dy, x, a) => {
      const [begin, size] = tf.slice_util.parseSliceParams(x, a.begin as number[], a.size as number[]) as [number[], number[]];
      return tf.pad(dy, x.shape.map((d, i) => [begin[i]!, d - begin[i]! - size[i]!] as [number, number]));
    },
  },
  PadV2: {
    save: 'x',
    fn: (dy, x, a) => {
      const pads = a.paddings as Array<[number, number]>;
      return tf.slice(dy, pads.map((p) => p[0]), x.shape);
    },
  },
};

type Pair = [() => tf.Tensor, () => tf.Tensor];

const binary: Record<string, (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor, y: tf.Tensor | undefined) => Pair> = {
  Add: (dy) => [() => dy, () => dy],
  Sub: (dy) => [() => dy, () => tf.neg(dy)],
  Multiply: (dy, a, b) => [() => tf.mul(dy, float(b)), () => tf.mul(dy, float(a))],
  RealDiv: (dy, a, b) => [() => tf.div(dy, float(b)), () => tf.neg(tf.div(tf.mul(dy, float(a)), tf.square(float(b))))],
  SquaredDifference: (dy, a, b) => [() => tf.mul(dy, tf.mul(tf.sub(a, b), 2)), () => tf.mul(dy, tf.mul(tf.sub(b, a), 2))],
  Maximum: (dy, a, b) => [() => tf.mul(dy, float(tf.greaterEqual(a, b))), () => tf.mul(dy, float(tf.less(a, b)))],
  Minimum: (dy, a, b) => [() => tf.mul(dy, float(tf.lessEqual(a, b))), () => tf.mul(dy, float(tf.greater(a, b)))],
  Pow: (dy, a, b, y) => [
    () => tf.mul(dy, tf.mul(b, tf.pow(a, tf.sub(b, 1)))),
    () => tf.mul(dy, tf.mul(y!, tf.where(tf.greater(a, 0), tf.log(a), tf.zerosLike(a)))),
  ],
};

const custom: Record<string, { inputsToSave?: string[]; saveAllInputs?: boolean; outputsToSave?: boolean[]; gradFunc: GradFn | MultiGradFn }> = {
  // Its input is named `input` (not `x`), so it can't use the unary table.
  ExpandDims: {
    inputsToSave: ['input'],
    gradFunc: ((dy, [x]) => ({ input: () => tf.reshape(dy, x!.shape) })) as GradFn,
  },
  BatchMatMul: {
    inputsToSave: ['a', 'b'],
    gradFunc: ((dy, [a, b], attrs) => {
      const tA = attrs.transposeA as boolean;
      const tB = attrs.transposeB as boolean;
      let da: () => tf.Tensor;
      let db: () => tf.Tensor;
      if (!tA && !tB) {
        da = () => tf.matMul(dy, b!, false, true);
        db = () => tf.matMul(a!, dy, true, false);
      } else if (!tA && tB) {
        da = () => tf.matMul(dy, b!, false, false);
        db = () => tf.matMul(dy, a!, true, false);
      } else if (tA && !tB) {
        da = () => tf.matMul(b!, dy, false, true);
        db = () => tf.matMul(a!, dy, false, false);
      } else {
        da = () => tf.matMul(b!, dy, true, true);
        db = () => tf.matMul(dy, a!, true, true);
      }
      // A rank-2 operand broadcast over a batch gets the batch-summed gradient.
      return { a: () => unbroadcast(da(), a!.shape), b: () => unbroadcast(db(), b!.shape) };
    }) as GradFn,
  },
  GatherV2: {
    inputsToSave: ['x', 'indices'],
    gradFunc: ((dy, [x, indices], attrs) => {
      if ((attrs.batchDims as number) !== 0) throw new Error('gather gradient: batchDims > 0 is not supported');
      const axis = axisOf(attrs.axis, x!.rank);
      return {
        x: () => {
          // Move the gathered axis to the front, scatter-add rows, move it back.
          const outer = x!.shape.slice(0, axis);
          const inner = x!.shape.slice(axis + 1);
          const perm = [axis, ...outer.map((_, i) => i), ...inner.map((_, i) => axis + 1 + i)];
          const flatIdx = tf.reshape(indices!, [-1]);
          // For axis 0 both transposes are the identity: skip their copy kernels.
          const front = axis === 0 ? tf.reshape(dy, [flatIdx.size, ...inner]) : tf.transpose(tf.reshape(dy, [...outer, flatIdx.size, ...inner]), perm);
          const dyFront = tf.reshape(front, [flatIdx.size, ...outer, ...inner]);
          const summed = tf.unsortedSegmentSum(dyFront, tf.cast(flatIdx, 'int32') as tf.Tensor1D, x!.shape[axis]!);
          if (axis === 0) return summed;
          const inv = new Array<number>(perm.length);
          perm.forEach((p, i) => (inv[p] = i));
          return tf.transpose(summed, inv);
        },
        indices: () => tf.zerosLike(indices!),
      };
    }) as GradFn,
  },
  Max: {
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: ((dy, [x, y], attrs) => reduceExtremumGrad(dy, x!, y!, attrs)) as GradFn,
  },
  Min: {
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: ((dy, [x, y], attrs) => reduceExtremumGrad(dy, x!, y!, attrs)) as GradFn,
  },
  Concat: {
    saveAllInputs: true,
    gradFunc: ((dy, saved, attrs) => {
      const axis = axesOf(attrs.axis, saved[0]!.shape)[0]!;
      const parts = splitParts(dy, saved.map((t) => t.shape[axis]!), axis);
      return Object.fromEntries(parts.map((p, i) => [String(i), () => p]));
    }) as GradFn,
  },
  AddN: {
    saveAllInputs: true,
    gradFunc: ((dy, saved) => Object.fromEntries(saved.map((_, i) => [String(i), () => tf.clone(dy)]))) as GradFn,
  },
  Pack: {
    saveAllInputs: true,
    gradFunc: ((dy, saved, attrs) => {
      const parts = tf.unstack(dy, axisOf(attrs.axis, dy.rank));
      return Object.fromEntries(saved.map((_, i) => [String(i), () => parts[i]!]));
    }) as GradFn,
  },
  Unpack: {
    gradFunc: ((dys, _saved, attrs) => ({ value: () => tf.stack(dys, attrs.axis as number) })) as MultiGradFn,
  },
  SplitV: {
    gradFunc: ((dys, _saved, attrs) => ({ x: () => tf.concat(dys, attrs.axis as number) })) as MultiGradFn,
  },
  Select: {
    inputsToSave: ['condition'],
    gradFunc: ((dy, [condition]) => ({
      condition: () => tf.zerosLike(condition!),
      t: () => tf.mul(dy, float(condition!)),
      e: () => tf.mul(dy, float(tf.logicalNot(condition!))),
    })) as GradFn,
  },
};

function reduceExtremumGrad(dy: tf.Tensor, x: tf.Tensor, y: tf.Tensor, attrs: Attrs): Grads {
  const axes = axesOf(attrs.reductionIndices ?? attrs.axis, x.shape); // Max names it reductionIndices, Min axis
  return {
    x: () => {
      const yFull = expandReduced(y, x.shape, axes);
      return tf.mul(expandReduced(dy, x.shape, axes), float(tf.equal(x, yFull)));
    },
  };
}

let registered = false;

/** Registers every gradient above that tfjs-core does not already have. Idempotent. */
export function registerGradients(): void {
  if (registered) return;
  registered = true;
  const add = (kernelName: string, cfg: Omit<tf.GradConfig, 'kernelName'>) => {
    if (tf.getGradient(kernelName) === undefined) tf.registerGradient({ kernelName, ...cfg });
  };
  for (const [name, u] of Object.entries(unary)) {
    add(name, {
      inputsToSave: u.save === 'x' ? [u.input ?? 'x'] : [],
      outputsToSave: u.save === 'y' ? [true] : [],
      gradFunc: ((dy: tf.Tensor, saved: tf.Tensor[], attrs: Attrs) => ({ [u.input ?? 'x']: () => u.fn(dy, saved[0]!, attrs) })) as tf.GradFunc,
    });
  }
  for (const [name, fn] of Object.entries(binary)) {
    add(name, {
      inputsToSave: ['a', 'b'],
      outputsToSave: name === 'Pow' ? [true] : [],
      gradFunc: ((dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [a, b, y] = saved as [tf.Tensor, tf.Tensor, tf.Tensor | undefined];
        const [da, db] = fn(dy, a, b, y);
        return { a: () => unbroadcast(da(), a.shape), b: () => unbroadcast(db(), b.shape) };
      }) as tf.GradFunc,
    });
  }
  for (const [name, cfg] of Object.entries(custom)) add(name, cfg as Omit<tf.GradConfig, 'kernelName'>);
}

registerGradients();
