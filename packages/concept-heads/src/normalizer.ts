/**
 * The embedding normaliser: x_n = (x - center) / scale, per dimension, fitted once on training
 * embeddings and frozen. Losses live in normalised space; predictions are denormalised before
 * decoding. Raw sentence embeddings can have tiny spreads (SONAR: std ~0.006), so regressing
 * them directly fails; the robust kind (median, IQR / 1.349) is LCM's choice and ignores
 * outliers, `standard` uses mean / std, `none` is the identity (for ablations).
 */
import * as tf from '@tensorflow/tfjs-core';
import { quantile } from '@sentencelab/tensor';

export type NormalizerKind = 'robust' | 'standard' | 'none';

export interface NormalizerJson {
  kind: NormalizerKind;
  center: number[];
  scale: number[];
}

/** IQR / 1.349 is the standard deviation for normal data. */
const IQR_TO_STD = 1.349;
/** Below this spread a dimension is treated as constant and left unscaled. */
const MIN_SCALE = 1e-12;

export class EmbeddingNormalizer {
  readonly dim: number;

  constructor(
    readonly kind: NormalizerKind,
    readonly center: Float32Array,
    readonly scale: Float32Array,
  ) {
    if (center.length !== scale.length) throw new Error(`normaliser: center has ${center.length} dims but scale has ${scale.length}`);
    for (let j = 0; j < scale.length; j++) {
      if (!(scale[j]! > 0) || !Number.isFinite(scale[j]!)) throw new Error(`normaliser: scale[${j}] must be finite and > 0, got ${scale[j]}`);
      if (!Number.isFinite(center[j]!)) throw new Error(`normaliser: center[${j}] must be finite, got ${center[j]}`);
    }
    this.dim = center.length;
  }

  static identity(dim: number): EmbeddingNormalizer {
    return new EmbeddingNormalizer('none', new Float32Array(dim), new Float32Array(dim).fill(1));
  }

  /** Fit per-dimension statistics (in float64) on training embeddings (each a vector of `dim`). */
  static fit(vectors: ArrayLike<ArrayLike<number>>, kind: NormalizerKind): EmbeddingNormalizer {
    const n = vectors.length;
    if (n === 0) throw new Error('normaliser: cannot fit on zero vectors');
    const dim = vectors[0]!.length;
    if (kind === 'none') return EmbeddingNormalizer.identity(dim);
    const center = new Float32Array(dim);
    const scale = new Float32Array(dim);
    const column = new Float64Array(n);
    for (let j = 0; j < dim; j++) {
      for (let i = 0; i < n; i++) {
        const v = vectors[i]!;
        if (v.length !== dim) throw new Error(`normaliser: vector ${i} has ${v.length} dims, expected ${dim}`);
        column[i] = v[j]!;
      }
      let c: number;
      let s: number;
      if (kind === 'robust') {
        column.sort();
        c = quantile(column, 0.5);
        s = (quantile(column, 0.75) - quantile(column, 0.25)) / IQR_TO_STD;
      } else if (kind === 'standard') {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += column[i]!;
        c = sum / n;
        let sq = 0;
        for (let i = 0; i < n; i++) sq += (column[i]! - c) ** 2;
        s = Math.sqrt(sq / n);
      } else {
        throw new Error(`normaliser kind must be robust | standard | none, got ${String(kind)}`);
      }
      center[j] = c;
      scale[j] = s > MIN_SCALE ? s : 1;
    }
    return new EmbeddingNormalizer(kind, center, scale);
  }

  // x: [..., dim] -> [..., dim]
  normalize(x: tf.Tensor): tf.Tensor {
    this.checkDim(x);
    return tf.tidy(() => tf.div(tf.sub(x, tf.tensor1d(this.center)), tf.tensor1d(this.scale)));
  }

  /** A spread (a standard deviation, a difference) in normalised units: std / scale. std: [..., dim] -> [..., dim]. */
  normalizeSpread(std: tf.Tensor): tf.Tensor {
    this.checkDim(std);
    return tf.tidy(() => tf.div(std, tf.tensor1d(this.scale)));
  }

  // x: [..., dim] -> [..., dim]
  denormalize(x: tf.Tensor): tf.Tensor {
    this.checkDim(x);
    return tf.tidy(() => tf.add(tf.mul(x, tf.tensor1d(this.scale)), tf.tensor1d(this.center)));
  }

  normalizeVector(v: ArrayLike<number>): Float32Array {
    const out = new Float32Array(this.dim);
    for (let j = 0; j < this.dim; j++) out[j] = (v[j]! - this.center[j]!) / this.scale[j]!;
    return out;
  }

  denormalizeVector(v: ArrayLike<number>): Float32Array {
    const out = new Float32Array(this.dim);
    for (let j = 0; j < this.dim; j++) out[j] = v[j]! * this.scale[j]! + this.center[j]!;
    return out;
  }

  toJSON(): NormalizerJson {
    return { kind: this.kind, center: Array.from(this.center), scale: Array.from(this.scale) };
  }

  static fromJSON(json: NormalizerJson): EmbeddingNormalizer {
    if (!['robust', 'standard', 'none'].includes(json.kind)) throw new Error(`normaliser.kind must be robust | standard | none, got ${String(json.kind)}`);
    if (!Array.isArray(json.center) || !Array.isArray(json.scale)) throw new Error('normaliser: center and scale must be arrays of numbers');
    return new EmbeddingNormalizer(json.kind, Float32Array.from(json.center), Float32Array.from(json.scale));
  }

  private checkDim(x: tf.Tensor): void {
    const last = x.shape[x.shape.length - 1];
    if (last !== this.dim) throw new Error(`normaliser fitted on ${this.dim}-d embeddings got a tensor of shape [${x.shape.join(', ')}]`);
  }
}
