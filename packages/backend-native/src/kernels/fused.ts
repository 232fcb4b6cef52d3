import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

import type { NativeAddon } from '../addon.js';
import { broadcastStrides } from './binary.js';
import { ReduceOp } from './reduce.js';
import { a32, allocF32, f32, sizeOf, type KernelArgs, type NativeKernel } from './util.js';

/**
 * Kernel names of @sentencelab/tensor's fused ops (its `fusedKernelNames`; tensor depends on this
 * package, so the names are repeated here). The ops run these kernels when the active backend has
 * them, with the inputs, attributes and outputs documented on each op in packages/tensor/src/ops;
 * their gradients are the ops' registered gradients, which call the *Grad kernels below.
 */
export const fusedKernelNames = {
  layerNorm: 'SlLayerNorm',
  layerNormPlain: 'SlLayerNormPlain',
  layerNormGrad: 'SlLayerNormGrad',
  rmsNorm: 'SlRmsNorm',
  rmsNormPlain: 'SlRmsNormPlain',
  rmsNormGrad: 'SlRmsNormGrad',
  crossEntropy: 'SlSoftmaxCrossEntropy',
  crossEntropyGrad: 'SlSoftmaxCrossEntropyGrad',
  adamw: 'SlAdamW',
  maskedSoftmax: 'SlScaledMaskedSoftmax',
  maskedSoftmaxGrad: 'SlScaledMaskedSoftmaxGrad',
  attention: 'SlAttention',
  attentionBias: 'SlAttentionBias',
  attentionGrad: 'SlAttentionGrad',
  gelu: 'SlGelu',
  geluGrad: 'SlGeluGrad',
  biasGelu: 'SlBiasGelu',
  biasGeluGrad: 'SlBiasGeluGrad',
  biasGrad: 'SlBiasGrad',
  matMulBias: 'SlMatMulBias',
  splitHeads: 'SlSplitHeads',
  splitHeadsGrad: 'SlSplitHeadsGrad',
} as const;

const K = fusedKernelNames;

type Inputs = Record<string, TensorInfo | undefined>;

/** float32 values of input `name`; the fused ops only send float32, so anything else is a bug. */
function values(kernel: string, backend: MathBackendCPU, inputs: Inputs, name: string): Float32Array {
  const t = inputs[name];
  const v = t === undefined ? null : f32(backend, t);
  if (v === null) throw new Error(`${kernel} on native: input "${name}" must be a float32 tensor, got ${t === undefined ? 'none' : t.dtype}`);
  return v;
}

function optional(kernel: string, backend: MathBackendCPU, inputs: Inputs, name: string): Float32Array | null {
  return inputs[name] === undefined ? null : values(kernel, backend, inputs, name);
}

function lastDim(t: TensorInfo): number {
  return t.shape.length === 0 ? 1 : t.shape[t.shape.length - 1]!;
}

function fused(kernelName: string, run: (addon: NativeAddon, backend: MathBackendCPU, inputs: Inputs, attrs: Record<string, unknown>) => TensorInfo | TensorInfo[]): NativeKernel {
  return {
    kernelName,
    make: (addon) => (args: KernelArgs) => run(addon, args.backend, args.inputs as Inputs, (args.attrs ?? {}) as Record<string, unknown>),
  };
}

// x: [..., dim] -> y like x (LayerNorm with center, RMSNorm without); gamma/beta: [dim] or none.
function norm(name: string, center: boolean): NativeKernel {
  return fused(name, (addon, backend, inputs, attrs) => {
    const x = inputs.x!;
    const y = allocF32(backend, sizeOf(x.shape));
    const cols = lastDim(x);
    if (y.length > 0) {
      addon.norm(values(name, backend, inputs, 'x'), optional(name, backend, inputs, 'gamma'), optional(name, backend, inputs, 'beta'), y, cols, attrs.eps as number, center);
    }
    return backend.makeTensorInfo(x.shape, 'float32', y);
  });
}

// dy, x: [..., dim], gamma: [dim] or none -> [dx, dgamma, dbeta] (LayerNorm), [dx, dgamma]
// (RMSNorm), or [dx] without gamma.
function normGrad(name: string, center: boolean): NativeKernel {
  return fused(name, (addon, backend, inputs, attrs) => {
    const x = inputs.x!;
    const cols = lastDim(x);
    const withGamma = inputs.gamma !== undefined;
    const dx = allocF32(backend, sizeOf(x.shape));
    const dgamma = withGamma ? new Float32Array(cols) : null;
    const dbeta = withGamma && center ? new Float32Array(cols) : null;
    if (dx.length > 0) {
      addon.normGrad(values(name, backend, inputs, 'dy'), values(name, backend, inputs, 'x'), optional(name, backend, inputs, 'gamma'), dx, dgamma, dbeta, cols, attrs.eps as number, center);
    }
    const out = [backend.makeTensorInfo(x.shape, 'float32', dx)];
    if (dgamma !== null) out.push(backend.makeTensorInfo([cols], 'float32', dgamma));
    if (dbeta !== null) out.push(backend.makeTensorInfo([cols], 'float32', dbeta));
    return out;
  });
}

function targetsOf(kernel: string, backend: MathBackendCPU, inputs: Inputs): Int32Array {
  const t = inputs.targets!;
  const v = t.dtype === 'int32' ? a32(backend, t) : null;
  if (!(v instanceof Int32Array)) throw new Error(`${kernel} on native: targets must be int32, got ${t.dtype}`);
  return v;
}

function attention(name: string): NativeKernel {
  return fused(name, (addon, backend, inputs, attrs) => {
    const dims = attentionDims(inputs);
    const [b, h, q, kv, , dv] = dims as unknown as [number, number, number, number, number, number];
    const out = allocF32(backend, b * h * q * dv);
    const probs = allocF32(backend, b * h * q * kv);
    const bias = inputs.bias;
    const strides = bias === undefined ? new Int32Array(4) : broadcastStrides(bias.shape, [b, h, q, kv]);
    const v = (input: string) => values(name, backend, inputs, input);
    if (out.length > 0) {
      addon.attention(
        v('q'), v('k'), v('v'), optional(name, backend, inputs, 'bias'), strides, out, probs, dims,
        attrs.scale as number, attrs.causal as boolean, attrs.offset as number,
      );
    }
    return [backend.makeTensorInfo([b, h, q, dv], 'float32', out), backend.makeTensorInfo([b, h, q, kv], 'float32', probs)];
  });
}

// [batch, heads, q, kv, dim, dimV] of an attention kernel's q and v.
function attentionDims(inputs: Inputs): Int32Array {
  const [b, h, q, d] = inputs.q!.shape as [number, number, number, number];
  return Int32Array.of(b, h, q, inputs.v!.shape[2]!, d, inputs.v!.shape[3]!);
}

export const fusedKernels: NativeKernel[] = [
  norm(K.layerNorm, true),
  norm(K.layerNormPlain, true),
  normGrad(K.layerNormGrad, true),
  norm(K.rmsNorm, false),
  norm(K.rmsNormPlain, false),
  normGrad(K.rmsNormGrad, false),
  // logits: [rows, vocab], targets: int32 [rows] -> scalar mean loss (attrs.gamma > 0: focal).
  fused(K.crossEntropy, (addon, backend, inputs, attrs) => {
    const logits = inputs.logits!;
    const loss = addon.crossEntropy(values(K.crossEntropy, backend, inputs, 'logits'), targetsOf(K.crossEntropy, backend, inputs), lastDim(logits), attrs.ignoreIndex as number, attrs.gamma as number);
    return backend.makeTensorInfo([], 'float32', Float32Array.of(loss));
  }),
  // dy: scalar, logits: [rows, vocab], targets: int32 [rows] -> dlogits [rows, vocab].
  fused(K.crossEntropyGrad, (addon, backend, inputs, attrs) => {
    const logits = inputs.logits!;
    const dl = allocF32(backend, sizeOf(logits.shape));
    const dy = values(K.crossEntropyGrad, backend, inputs, 'dy')[0]!;
    addon.crossEntropyGrad(dy, values(K.crossEntropyGrad, backend, inputs, 'logits'), targetsOf(K.crossEntropyGrad, backend, inputs), dl, lastDim(logits), attrs.ignoreIndex as number, attrs.gamma as number);
    return backend.makeTensorInfo(logits.shape, 'float32', dl);
  }),
  // p, m, v, g: same shape -> [p', m', v'].
  fused(K.adamw, (addon, backend, inputs, attrs) => {
    const p = inputs.p!;
    const n = sizeOf(p.shape);
    const [po, mo, vo] = [allocF32(backend, n), allocF32(backend, n), allocF32(backend, n)];
    const s = attrs as { beta1: number; beta2: number; eps: number; lr: number; bc1: number; bc2: number; decay: number };
    const scalars = Float32Array.of(s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, s.bc1, s.bc2, s.eps, s.lr, s.decay);
    const v = (name: string) => values(K.adamw, backend, inputs, name);
    if (n > 0) addon.adamw(v('p'), v('m'), v('v'), v('g'), po, mo, vo, scalars);
    return [po, mo, vo].map((a) => backend.makeTensorInfo(p.shape, 'float32', a));
  }),
  // scores: [batch, heads, q, kv], bias: broadcastable 4-D or none -> probs like scores.
  fused(K.maskedSoftmax, (addon, backend, inputs, attrs) => {
    const scores = inputs.scores!;
    const y = allocF32(backend, sizeOf(scores.shape));
    const bias = inputs.bias;
    const strides = bias === undefined ? new Int32Array(4) : broadcastStrides(bias.shape, scores.shape);
    if (y.length > 0) {
      addon.maskedSoftmax(
        values(K.maskedSoftmax, backend, inputs, 'scores'), optional(K.maskedSoftmax, backend, inputs, 'bias'), strides, y,
        Int32Array.from(scores.shape), attrs.scale as number, attrs.causal as boolean, attrs.offset as number,
      );
    }
    return backend.makeTensorInfo(scores.shape, 'float32', y);
  }),
  // dy, y: [..., kv] -> scale * y * (dy - sum(dy * y)).
  fused(K.maskedSoftmaxGrad, (addon, backend, inputs, attrs) => {
    const y = inputs.y!;
    const dx = allocF32(backend, sizeOf(y.shape));
    if (dx.length > 0) addon.softmaxGrad(values(K.maskedSoftmaxGrad, backend, inputs, 'dy'), values(K.maskedSoftmaxGrad, backend, inputs, 'y'), dx, lastDim(y), attrs.scale as number);
    return backend.makeTensorInfo(y.shape, 'float32', dx);
  }),
  // q: [batch, heads, q, dim], k: [batch, heads, kv, dim], v: [batch, heads, kv, dimV] (+ bias:
  // broadcastable 4-D for SlAttentionBias) -> [out [batch, heads, q, dimV], probs [batch, heads, q, kv]].
  attention(K.attention),
  attention(K.attentionBias),
  // dy: [batch, heads, q, dimV], q, k, v as SlAttention's, probs: its second output -> [dq, dk, dv].
  fused(K.attentionGrad, (addon, backend, inputs, attrs) => {
    const dims = attentionDims(inputs);
    const shapes = [inputs.q!.shape, inputs.k!.shape, inputs.v!.shape];
    const [dq, dk, dv] = shapes.map((s) => allocF32(backend, sizeOf(s))) as [Float32Array, Float32Array, Float32Array];
    const v = (name: string) => values(K.attentionGrad, backend, inputs, name);
    if (dq.length + dk.length + dv.length > 0) {
      addon.attentionGrad(
        v('dy'), v('q'), v('k'), v('v'), v('probs'), dq, dk, dv, dims,
        attrs.scale as number, attrs.causal as boolean, attrs.offset as number, attrs.biased as boolean,
      );
    }
    return [dq, dk, dv].map((a, i) => backend.makeTensorInfo(shapes[i]!, 'float32', a));
  }),
  // x: any shape -> GELU(x).
  fused(K.gelu, (addon, backend, inputs) => {
    const x = inputs.x!;
    const y = allocF32(backend, sizeOf(x.shape));
    if (y.length > 0) addon.gelu(values(K.gelu, backend, inputs, 'x'), null, y, lastDim(x));
    return backend.makeTensorInfo(x.shape, 'float32', y);
  }),
  fused(K.geluGrad, (addon, backend, inputs) => {
    const x = inputs.x!;
    const dx = allocF32(backend, sizeOf(x.shape));
    if (dx.length > 0) addon.geluGrad(values(K.geluGrad, backend, inputs, 'dy'), values(K.geluGrad, backend, inputs, 'x'), null, dx, lastDim(x));
    return backend.makeTensorInfo(x.shape, 'float32', dx);
  }),
  // x: [..., cols], bias: [cols] -> GELU(x + bias).
  fused(K.biasGelu, (addon, backend, inputs) => {
    const x = inputs.x!;
    const y = allocF32(backend, sizeOf(x.shape));
    if (y.length > 0) addon.gelu(values(K.biasGelu, backend, inputs, 'x'), values(K.biasGelu, backend, inputs, 'bias'), y, lastDim(x));
    return backend.makeTensorInfo(x.shape, 'float32', y);
  }),
  // dy, x: [..., cols], bias: [cols] -> [du = dy * GELU'(x + bias), dbias = column sums of du].
  fused(K.biasGeluGrad, (addon, backend, inputs) => {
    const x = inputs.x!;
    const cols = lastDim(x);
    const du = allocF32(backend, sizeOf(x.shape));
    const dbias = new Float32Array(cols);
    if (du.length > 0) {
      addon.geluGrad(values(K.biasGeluGrad, backend, inputs, 'dy'), values(K.biasGeluGrad, backend, inputs, 'x'), values(K.biasGeluGrad, backend, inputs, 'bias'), du, cols);
      addon.reduce(ReduceOp.Sum, du, dbias, 1, du.length / cols, cols);
    }
    return [backend.makeTensorInfo(x.shape, 'float32', du), backend.makeTensorInfo([cols], 'float32', dbias)];
  }),
  // dy: [rows, cols] -> column sums [cols].
  fused(K.biasGrad, (addon, backend, inputs, attrs) => {
    const rows = attrs.rows as number;
    const cols = attrs.cols as number;
    const out = new Float32Array(cols);
    if (rows * cols > 0) addon.reduce(ReduceOp.Sum, values(K.biasGrad, backend, inputs, 'dy'), out, 1, rows, cols);
    return backend.makeTensorInfo([cols], 'float32', out);
  }),
  // x: [rows, in], w: [in, out], bias: [out] -> x w + bias, in one pass over the output.
  fused(K.matMulBias, (addon, backend, inputs) => {
    const [rows, inner] = inputs.x!.shape as [number, number];
    const cols = inputs.w!.shape[1]!;
    const y = allocF32(backend, rows * cols);
    if (y.length > 0) {
      const zero = new Int32Array(1);
      addon.matmul(values(K.matMulBias, backend, inputs, 'x'), values(K.matMulBias, backend, inputs, 'w'), y, zero, zero, rows, cols, inner, false, false);
      addon.biasAct(y, values(K.matMulBias, backend, inputs, 'bias'), rows, cols, 0, 0);
    }
    return backend.makeTensorInfo([rows, cols], 'float32', y);
  }),
  // y: [batch * len, parts * dModel], bias: [parts * dModel] or none -> parts x [batch, heads, len, headDim].
  fused(K.splitHeads, (addon, backend, inputs, attrs) => {
    const { batch, heads, parts } = attrs as { batch: number; heads: number; parts: number };
    const [rows, width] = inputs.y!.shape as [number, number];
    const len = rows / batch;
    const dModel = width / parts;
    const headDim = dModel / heads;
    const y = values(K.splitHeads, backend, inputs, 'y');
    const bias = optional(K.splitHeads, backend, inputs, 'bias');
    return Array.from({ length: parts }, (_, p) => {
      const out = allocF32(backend, rows * dModel);
      if (out.length > 0) addon.heads(y, out, batch, len, heads, headDim, width, p * dModel, bias?.subarray(p * dModel, (p + 1) * dModel) ?? null, true);
      return backend.makeTensorInfo([batch, heads, len, headDim], 'float32', out);
    });
  }),
  // grad0..: [batch, heads, len, headDim] each -> [dY [batch * len, parts * dModel], dBias [parts * dModel] with attrs.withBias].
  fused(K.splitHeadsGrad, (addon, backend, inputs, attrs) => {
    const { parts, withBias } = attrs as { parts: number; withBias: boolean };
    const [batch, heads, len, headDim] = inputs.grad0!.shape as [number, number, number, number];
    const dModel = heads * headDim;
    const width = parts * dModel;
    const rows = batch * len;
    const dY = allocF32(backend, rows * width);
    for (let p = 0; p < parts && dY.length > 0; p++) {
      addon.heads(values(K.splitHeadsGrad, backend, inputs, `grad${p}`), dY, batch, len, heads, headDim, width, p * dModel, null, false);
    }
    const out = [backend.makeTensorInfo([rows, width], 'float32', dY)];
    if (withBias) {
      const sums = new Float32Array(width);
      if (dY.length > 0) addon.reduce(ReduceOp.Sum, dY, sums, 1, rows, width);
      out.push(backend.makeTensorInfo([width], 'float32', sums));
    }
    return out;
  }),
];
