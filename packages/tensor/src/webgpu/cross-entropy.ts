/**
 * Softmax cross-entropy (or, with gamma > 0, focal loss) with integer targets as WGSL programs,
 * without the [rows, vocab] one-hot the composite builds: forward = per-row loss (one workgroup
 * per row) + one mean over the valid rows; backward = one scale (dy / valid count) + one
 * (softmax - onehot) * scale * w per row, w the focal gradient weight (1 for cross-entropy; the
 * native kernels' focal.h derives it).
 * Target semantics follow the composite exactly: `ignoreIndex` rows do not count; any other
 * negative target is class 0; a target >= vocab counts as a row with no target term.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { f32, i32, rowProgram, rowWorkgroup, runProgram, treeReduce, type WebgpuProgram } from './program.js';

const uniforms = 'rows : i32, cols : i32, ignoreIndex : i32, gamma : f32,';

// Focal weights of a row with NLL `nll` (p = exp(-nll), u = 1 - p clamped at 0): the loss's
// u^gamma and the gradient's u^gamma + gamma p u^(gamma - 1) nll; both 1 for gamma 0, 0 at u = 0.
const focalWeights = `
    fn focalU(nll : f32) -> f32 { return select(0.0, 1.0 - exp(-nll), nll > 0.0); }
    fn focalWeight(nll : f32) -> f32 {
      let g = uniforms.gamma;
      let u = focalU(nll);
      return select(select(0.0, pow(u, g), u > 0.0), 1.0, g == 0.0);
    }
    fn focalGradWeight(nll : f32) -> f32 {
      let g = uniforms.gamma;
      let u = focalU(nll);
      let w = select(0.0, pow(u, g) + g * (1.0 - u) * pow(u, g - 1.0) * nll, u > 0.0);
      return select(w, 1.0, g == 0.0);
    }`;

// max and sum(exp(l - max)) of row `row` of logits into `rowMax`, `rowSum`
function softmaxStats(wg: number): string {
  return `
      let row = index / ${wg};
      let tid = i32(localId.x);
      let cols = uniforms.cols;
      let valid = row < uniforms.rows;
      let base = row * cols;
      var m = -3.402823e+38;
      if (valid) { for (var c = tid; c < cols; c += ${wg}) { m = max(m, logits[base + c]); } }
      buf[tid] = m;
      ${treeReduce('buf', wg, (a, b) => `max(${a}, ${b})`)}
      let rowMax = buf[0];
      workgroupBarrier();
      var acc = 0.0;
      if (valid) { for (var c = tid; c < cols; c += ${wg}) { acc += exp(logits[base + c] - rowMax); } }
      buf[tid] = acc;
      ${treeReduce('buf', wg, (a, b) => `${a} + ${b}`)}
      let rowSum = buf[0];
      var tgt = -1;
      var counted = false;
      if (valid) {
        counted = targets[row] != uniforms.ignoreIndex;
        tgt = max(targets[row], 0);
      }
      let hasTarget = counted && tgt < cols;`;
}

// logits: [rows, vocab], targets: int32 [rows] -> loss: [rows] (focal-weighted NLL; 0 for rows without a target)
function nllProgram(rows: number, cols: number): WebgpuProgram {
  const wg = rowWorkgroup(cols);
  const code = `
    var<workgroup> buf : array<f32, ${wg}>;
    ${focalWeights}
    fn main(index : i32) {
      ${softmaxStats(wg)}
      if (valid && tid == 0 && hasTarget) {
        let nll = rowMax + log(rowSum) - logits[base + tgt];
        result[row] = focalWeight(nll) * nll;
      } else if (valid && tid == 0) {
        result[row] = 0.0;
      }
    }`;
  return rowProgram('slCrossEntropyNll', [rows], rows, ['logits', 'targets'], uniforms, wg, code);
}

const SINGLE = 256;

// One workgroup over all rows: result = numerator / max(valid count, 1)
function meanProgram(key: string, outputShape: number[], variableNames: string[], numerator: string): WebgpuProgram {
  const code = `
    var<workgroup> sums : array<f32, ${SINGLE}>;
    var<workgroup> counts : array<f32, ${SINGLE}>;
    fn main(index : i32) {
      let tid = i32(localId.x);
      var s = 0.0;
      var n = 0.0;
      for (var r = tid; r < uniforms.rows; r += ${SINGLE}) {
        ${numerator === 'sum' ? 's += nll[r];' : ''}
        if (targets[r] != uniforms.ignoreIndex) { n += 1.0; }
      }
      sums[tid] = s;
      counts[tid] = n;
      workgroupBarrier();
      for (var k = ${SINGLE / 2}; k > 0; k = k >> 1) {
        if (tid < k) {
          sums[tid] = sums[tid] + sums[tid + k];
          counts[tid] = counts[tid] + counts[tid + k];
        }
        workgroupBarrier();
      }
      if (tid == 0) {
        result[0] = ${numerator === 'sum' ? 'sums[0]' : 'dy[0]'} / max(counts[0], 1.0);
      }
    }`;
  return {
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [1, 1, 1],
    variableNames,
    workgroupSize: [SINGLE, 1, 1],
    uniforms,
    getUserCode: () => code,
  };
}

// dlogits = (softmax - onehot(tgt)) * scale[0] * focal gradient weight on rows with a target, 0 elsewhere
function gradProgram(rows: number, cols: number): WebgpuProgram {
  const wg = rowWorkgroup(cols);
  const code = `
    var<workgroup> buf : array<f32, ${wg}>;
    ${focalWeights}
    fn main(index : i32) {
      ${softmaxStats(wg)}
      if (valid) {
        var s = 0.0;
        if (hasTarget) { s = scale[0] * focalGradWeight(rowMax + log(rowSum) - logits[base + tgt]); }
        for (var c = tid; c < cols; c += ${wg}) {
          let p = exp(logits[base + c] - rowMax) / rowSum;
          result[base + c] = (p - select(0.0, 1.0, c == tgt)) * s;
        }
      }
    }`;
  return rowProgram('slCrossEntropyGrad', [rows, cols], rows, ['logits', 'targets', 'scale'], uniforms, wg, code);
}

function dims(logits: tf.TensorInfo): { rows: number; cols: number } {
  const cols = logits.shape[logits.shape.length - 1]!;
  return { rows: logits.shape.reduce((a, b) => a * b, 1) / cols, cols };
}

type Disposer = { disposeData(id: unknown): void };

/** SlSoftmaxCrossEntropy (logits [rows, vocab], targets int32 [rows]), attrs { ignoreIndex, gamma } -> scalar mean loss. */
export function crossEntropyForward(backend: unknown, logits: tf.TensorInfo, targets: tf.TensorInfo, ignoreIndex: number, gamma: number): tf.TensorInfo {
  const { rows, cols } = dims(logits);
  const u = [i32(rows), i32(cols), i32(ignoreIndex), f32(gamma)];
  const nll = runProgram(backend, nllProgram(rows, cols), [logits, targets], u);
  const loss = runProgram(backend, meanProgram('slCrossEntropyMean', [], ['nll', 'targets'], 'sum'), [nll, targets], u);
  (backend as Disposer).disposeData(nll.dataId);
  return loss;
}

/** SlSoftmaxCrossEntropyGrad (dy scalar, logits [rows, vocab], targets [rows]), attrs { ignoreIndex, gamma } -> dlogits [rows, vocab]. */
export function crossEntropyBackward(backend: unknown, dy: tf.TensorInfo, logits: tf.TensorInfo, targets: tf.TensorInfo, ignoreIndex: number, gamma: number): tf.TensorInfo {
  const { rows, cols } = dims(logits);
  const u = [i32(rows), i32(cols), i32(ignoreIndex), f32(gamma)];
  const scale = runProgram(backend, meanProgram('slCrossEntropyScale', [1], ['dy', 'targets'], 'dy'), [dy, targets], u);
  const grad = runProgram(backend, gradProgram(rows, cols), [logits, targets, scale], u);
  (backend as Disposer).disposeData(scale.dataId);
  return grad;
}
