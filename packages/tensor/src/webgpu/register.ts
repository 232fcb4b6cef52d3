/**
 * Registers this package's fused kernels for the `webgpu` backend. Registration only records
 * functions in tfjs's kernel registry (keyed by backend name), so it needs neither the webgpu
 * package nor a GPU; the kernels run once `webgpu` is the active backend. Other backends have no
 * such kernels, and the ops in ../ops fall back to composite tfjs code there.
 */
import * as tf from '@tensorflow/tfjs-core';
import { adamwStep, type AdamWScalars } from './adamw.js';
import { adamwGroupStepInPlace, type AdamWSharedScalars } from './adamw-group.js';
import { adamwStepInPlace } from './adamw-inplace.js';
import { crossEntropyBackward, crossEntropyForward } from './cross-entropy.js';
import { splitHeadsBackward, splitHeadsForward, type HeadsLayout } from './heads.js';
import { biasGeluBackward, biasGrad, geluBackward, geluForward } from './gelu.js';
import { normBackward, normForward, normSkipForward } from './layer-norm.js';
import { maskedSoftmaxBackward, maskedSoftmaxForward } from './masked-softmax.js';
import { matMulBiasAddForward, matMulBiasForward } from './matmul-bias.js';
import { mergedContextBackward, mergedContextForward } from './merged-context.js';
import { splitForward } from './split.js';
import { writeRowsInPlace } from './write-rows.js';

/** Kernel names of the fused ops (inputs and attrs are documented on each op). */
export const fusedKernelNames = {
  layerNorm: 'SlLayerNorm',
  layerNormPlain: 'SlLayerNormPlain',
  layerNormGrad: 'SlLayerNormGrad',
  rmsNorm: 'SlRmsNorm',
  rmsNormPlain: 'SlRmsNormPlain',
  rmsNormGrad: 'SlRmsNormGrad',
  layerNormSkip: 'SlLayerNormSkip',
  rmsNormSkip: 'SlRmsNormSkip',
  crossEntropy: 'SlSoftmaxCrossEntropy',
  crossEntropyGrad: 'SlSoftmaxCrossEntropyGrad',
  adamw: 'SlAdamW',
  adamwInPlace: 'SlAdamWInPlace',
  adamwGroupInPlace: 'SlAdamWGroupInPlace',
  maskedSoftmax: 'SlScaledMaskedSoftmax',
  maskedSoftmaxGrad: 'SlScaledMaskedSoftmaxGrad',
  attention: 'SlAttention',
  attentionBias: 'SlAttentionBias',
  attentionGrad: 'SlAttentionGrad',
  splitHeads: 'SlSplitHeads',
  splitHeadsGrad: 'SlSplitHeadsGrad',
  gelu: 'SlGelu',
  geluGrad: 'SlGeluGrad',
  biasGelu: 'SlBiasGelu',
  biasGeluGrad: 'SlBiasGeluGrad',
  biasGrad: 'SlBiasGrad',
  matMulBias: 'SlMatMulBias',
  matMulBiasAdd: 'SlMatMulBiasAdd',
  mergedContext: 'SlMergedContext',
  mergedContextGrad: 'SlMergedContextGrad',
  split: 'SlSplit',
  writeRowsInPlace: 'SlWriteRowsInPlace',
} as const;

const K = fusedKernelNames;
type KernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: Record<string, unknown> }) => tf.TensorInfo | tf.TensorInfo[];

const webgpuKernels: Record<string, KernelFunc> = {
  [K.layerNorm]: ({ inputs, backend, attrs }) => normForward(backend, inputs.x!, inputs.gamma!, inputs.beta!, attrs.eps as number, true),
  [K.layerNormPlain]: ({ inputs, backend, attrs }) => normForward(backend, inputs.x!, undefined, undefined, attrs.eps as number, true),
  [K.layerNormGrad]: ({ inputs, backend, attrs }) => normBackward(backend, inputs.dy!, inputs.x!, inputs.gamma, attrs.eps as number, true, inputs.gamma !== undefined, inputs.addend),
  [K.rmsNorm]: ({ inputs, backend, attrs }) => normForward(backend, inputs.x!, inputs.gamma!, undefined, attrs.eps as number, false),
  [K.rmsNormPlain]: ({ inputs, backend, attrs }) => normForward(backend, inputs.x!, undefined, undefined, attrs.eps as number, false),
  [K.rmsNormGrad]: ({ inputs, backend, attrs }) => normBackward(backend, inputs.dy!, inputs.x!, inputs.gamma, attrs.eps as number, false, false, inputs.addend),
  [K.layerNormSkip]: ({ inputs, backend, attrs }) => normSkipForward(backend, inputs.x!, inputs.gamma!, inputs.beta!, attrs.eps as number, true),
  [K.rmsNormSkip]: ({ inputs, backend, attrs }) => normSkipForward(backend, inputs.x!, inputs.gamma!, undefined, attrs.eps as number, false),
  [K.crossEntropy]: ({ inputs, backend, attrs }) => crossEntropyForward(backend, inputs.logits!, inputs.targets!, attrs.ignoreIndex as number, attrs.gamma as number),
  [K.crossEntropyGrad]: ({ inputs, backend, attrs }) => crossEntropyBackward(backend, inputs.dy!, inputs.logits!, inputs.targets!, attrs.ignoreIndex as number, attrs.gamma as number),
  [K.adamw]: ({ inputs, backend, attrs }) => adamwStep(backend, inputs.p!, inputs.m!, inputs.v!, inputs.g!, attrs as unknown as AdamWScalars),
  [K.adamwInPlace]: ({ inputs, backend, attrs }) => adamwStepInPlace(backend, inputs.p!, inputs.m!, inputs.v!, inputs.g!, attrs as unknown as AdamWScalars),
  [K.adamwGroupInPlace]: ({ inputs, backend, attrs }) => {
    const slots = (attrs.decays as number[]).map((decay, k) => ({ p: inputs[`p${k}`]!, m: inputs[`m${k}`]!, v: inputs[`v${k}`]!, g: inputs[`g${k}`]!, decay }));
    return adamwGroupStepInPlace(backend, slots, attrs as unknown as AdamWSharedScalars);
  },
  [K.maskedSoftmax]: ({ inputs, backend, attrs }) =>
    maskedSoftmaxForward(backend, inputs.scores!, inputs.bias, attrs.scale as number, attrs.causal as boolean, attrs.offset as number),
  [K.maskedSoftmaxGrad]: ({ inputs, backend, attrs }) => maskedSoftmaxBackward(backend, inputs.dy!, inputs.y!, attrs.scale as number),
  [K.writeRowsInPlace]: ({ inputs, backend, attrs }) => {
    const pairs = Array.from({ length: attrs.pairs as number }, (_, i) => i);
    return writeRowsInPlace(backend, pairs.map((i) => inputs[`cache${i}`]!), pairs.map((i) => inputs[`x${i}`]!), attrs.at as number);
  },
  [K.splitHeads]: ({ inputs, backend, attrs }) => splitHeadsForward(backend, inputs.y!, inputs.bias, attrs as unknown as HeadsLayout),
  [K.splitHeadsGrad]: ({ inputs, backend, attrs }) => {
    const l = attrs as unknown as HeadsLayout;
    const dys = Array.from({ length: l.parts }, (_, p) => inputs[`grad${p}`]!);
    return splitHeadsBackward(backend, dys, l, attrs.withBias as boolean);
  },
  [K.gelu]: ({ inputs, backend }) => geluForward(backend, inputs.x!, undefined),
  [K.geluGrad]: ({ inputs, backend }) => geluBackward(backend, inputs.dy!, inputs.x!),
  [K.biasGelu]: ({ inputs, backend }) => geluForward(backend, inputs.x!, inputs.bias!),
  [K.biasGeluGrad]: ({ inputs, backend }) => biasGeluBackward(backend, inputs.dy!, inputs.x!, inputs.bias!),
  [K.biasGrad]: ({ inputs, backend, attrs }) => biasGrad(backend, inputs.dy!, attrs.rows as number, attrs.cols as number),
  [K.matMulBias]: ({ inputs, backend }) => matMulBiasForward(backend, inputs.x!, inputs.w!, inputs.bias!),
  [K.matMulBiasAdd]: ({ inputs, backend }) => matMulBiasAddForward(backend, inputs.x!, inputs.w!, inputs.bias!, inputs.residual!),
  [K.mergedContext]: ({ inputs, backend }) => mergedContextForward(backend, inputs.p!, inputs.v!),
  [K.mergedContextGrad]: ({ inputs, backend }) => mergedContextBackward(backend, inputs.dy!, inputs.p!, inputs.v!),
  [K.split]: ({ inputs, backend, attrs }) => splitForward(backend, inputs.x!, attrs.sizes as number[], attrs.axis as number),
};

let registered = false;

/** Idempotent; the ops call it before looking their kernels up. */
export function registerWebgpuKernels(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, kernelFunc] of Object.entries(webgpuKernels)) {
    if (tf.getKernel(kernelName, 'webgpu') === undefined) {
      tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
    }
  }
}
