import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourcesHash } from '../scripts/sources-hash.mjs';

/** Any 4-byte typed array (float32 and int32 tensor values share the layout kernels). */
export type Array32 = Float32Array | Int32Array;

/** The functions the C++ addon exports (native/src/addon.cc); all outputs are preallocated. */
export interface NativeAddon {
  info(): {
    simd: string;
    simdAvailable: string[];
    threads: number;
    gemmTile: string;
    compiler: string;
    napiVersion: number;
    blas: 'builtin' | 'openblas';
  };
  /** '' when the switch worked, else why OpenBLAS is unavailable. */
  setBlas(which: 'openblas' | 'builtin'): string;
  setThreads(n: number): number;
  setSimd(level: string): boolean;
  matmul(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    batchA: Int32Array,
    batchB: Int32Array,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
  biasAct(c: Float32Array, bias: Float32Array | null, rows: number, cols: number, act: number, alpha: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, shape: Int32Array, sa: Int32Array, sb: Int32Array): void;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  softmax(x: Float32Array, out: Float32Array, cols: number, log: boolean): void;
  reduce(op: number, x: Float32Array, out: Float32Array, outer: number, r: number, inner: number): void;
  transpose(x: Array32, out: Array32, shape: Int32Array, perm: Int32Array): void;
  gather(x: Array32, indices: Int32Array, out: Array32, outer: number, axisSize: number, inner: number): number;
  segmentSum(x: Float32Array, ids: Int32Array, out: Float32Array, numSegments: number, inner: number): void;
  slice(x: Array32, out: Array32, shape: Int32Array, begin: Int32Array, size: Int32Array): void;
  pad(x: Array32, out: Array32, shape: Int32Array, before: Int32Array, outShape: Int32Array, fill: Array32): void;
  copyRows(src: Array32, srcStride: number, dst: Array32, dstOffset: number, dstStride: number, rows: number, width: number): void;
  // Fused ops (native/src/fused_impl.h): center = true is LayerNorm, false RMSNorm.
  norm(x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, y: Float32Array, cols: number, eps: number, center: boolean): void;
  normGrad(
    dy: Float32Array, x: Float32Array, gamma: Float32Array | null, dx: Float32Array,
    dgamma: Float32Array | null, dbeta: Float32Array | null, cols: number, eps: number, center: boolean,
  ): void;
  /** Mean over the rows whose target is not ignoreIndex of the cross-entropy (gamma 0) or focal loss (gamma > 0). */
  crossEntropy(logits: Float32Array, targets: Int32Array, vocab: number, ignoreIndex: number, gamma: number): number;
  crossEntropyGrad(dy: number, logits: Float32Array, targets: Int32Array, dlogits: Float32Array, vocab: number, ignoreIndex: number, gamma: number): void;
  maskedSoftmax(
    x: Float32Array, bias: Float32Array | null, biasStrides: Int32Array, y: Float32Array, shape: Int32Array,
    scale: number, causal: boolean, offset: number,
  ): void;
  softmaxGrad(dy: Float32Array, y: Float32Array, dx: Float32Array, cols: number, scale: number): void;
  /**
   * Scaled dot-product attention: q [B, H, Q, D], k [B, H, KV, D], v [B, H, KV, Dv] -> out [B, H,
   * Q, Dv] and probs [B, H, Q, KV]; dims = [B, H, Q, KV, D, Dv]; the bias is seen through
   * biasStrides like maskedSoftmax's.
   */
  attention(
    q: Float32Array, k: Float32Array, v: Float32Array, bias: Float32Array | null, biasStrides: Int32Array,
    out: Float32Array, probs: Float32Array, dims: Int32Array, scale: number, causal: boolean, offset: number,
  ): void;
  /** Gradients of attention() from dout and its probs into dq, dk, dv; biased: whether the forward had a bias. */
  attentionGrad(
    dout: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array,
    dq: Float32Array, dk: Float32Array, dv: Float32Array, dims: Int32Array, scale: number, causal: boolean, offset: number, biased: boolean,
  ): void;
  gelu(x: Float32Array, bias: Float32Array | null, y: Float32Array, cols: number): void;
  geluGrad(dy: Float32Array, x: Float32Array, bias: Float32Array | null, dx: Float32Array, cols: number): void;
  /**
   * split: dst [batch, heads, len, headDim] = columns [col0, col0 + heads * headDim) of src
   * [batch * len, width] (+ bias); else the inverse copy into those columns of dst.
   */
  heads(
    src: Float32Array, dst: Float32Array, batch: number, len: number, heads: number, headDim: number,
    width: number, col0: number, bias: Float32Array | null, split: boolean,
  ): void;
  /** scalars: beta1, 1 - beta1, beta2, 1 - beta2, bc1, bc2, eps, lr, decay. */
  adamw(
    p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array,
    pOut: Float32Array, mOut: Float32Array, vOut: Float32Array, scalars: Float32Array,
  ): void;
}

export type AddonLoad = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const addonPath = join(packageDir, 'build', 'Release', 'sentencelab_native.node');

let cached: AddonLoad | undefined;

/**
 * Why the built addon does not match the C++ sources beside it (they changed since it was built:
 * a `git pull` without `pnpm install`), or undefined. Its kernels would then disagree with this
 * package's JavaScript (an op code it does not know computes nothing), so it is not used. An
 * addon without a recorded hash (built by hand with node-gyp) or a package without sources is
 * taken as it is.
 */
export function staleBuild(dir = packageDir): string | undefined {
  const recorded = join(dir, 'build', 'sources.sha256');
  if (!existsSync(recorded) || !existsSync(join(dir, 'native', 'src'))) return undefined;
  if (readFileSync(recorded, 'utf8').trim() === sourcesHash(dir)) return undefined;
  return `native addon at ${join(dir, 'build', 'Release', 'sentencelab_native.node')} was built from other C++ sources than those in ${join(dir, 'native', 'src')} (they changed since: a git pull without pnpm install?); rebuild it with \`pnpm install\` or \`pnpm --filter @sentencelab/backend-native rebuild\``;
}

/** Loads the compiled addon once; on failure says why (not built, build error, load error). */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  cached = tryLoad();
  return cached;
}

function tryLoad(): AddonLoad {
  if (!existsSync(addonPath)) {
    const failure = join(packageDir, 'build', 'build-failure.txt');
    const why = existsSync(failure) ? readFileSync(failure, 'utf8').trim() : 'the install step did not build it';
    return {
      ok: false,
      reason: `native addon not found at ${addonPath} (${why}); build it with \`pnpm --filter @sentencelab/backend-native rebuild\` (needs g++ and node-gyp)`,
    };
  }
  const stale = staleBuild();
  if (stale) return { ok: false, reason: stale };
  try {
    const addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
    return { ok: true, addon, path: addonPath };
  } catch (err) {
    return { ok: false, reason: `native addon at ${addonPath} failed to load: ${(err as Error).message}` };
  }
}
