/**
 * Float64 reference implementations in plain JS of the building blocks, written
 * independently of tfjs (loops, no broadcasting tricks). Used as the ground truth for forward
 * values and, through finite differences, for gradients. Parameters are looked up by the
 * same names the modules register ("q.weight", "norm1.bias", ...).
 */

/** A dense float64 array with a shape (row-major). */
export interface Arr {
  shape: number[];
  data: Float64Array;
}

export type Params = Map<string, Arr>;

export function arr(shape: number[], data?: ArrayLike<number>): Arr {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  if (data !== undefined) {
    if (data.length !== n) throw new Error(`arr: ${data.length} values for shape [${shape}]`);
    d.set(data);
  }
  return { shape, data: d };
}

function param(p: Params, name: string): Arr {
  const a = p.get(name);
  if (a === undefined) throw new Error(`reference: missing parameter "${name}"`);
  return a;
}

const last = (a: Arr) => a.shape[a.shape.length - 1]!;

/** x [..., in] @ w [in, out] + b [out]. */
export function linearRef(x: Arr, p: Params, prefix: string): Arr {
  const w = param(p, `${prefix}weight`);
  const b = p.get(`${prefix}bias`);
  const [nin, nout] = w.shape as [number, number];
  const rows = x.data.length / nin;
  const out = arr([...x.shape.slice(0, -1), nout]);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < nout; j++) {
      let s = b === undefined ? 0 : b.data[j]!;
      for (let k = 0; k < nin; k++) s += x.data[r * nin + k]! * w.data[k * nout + j]!;
      out.data[r * nout + j] = s;
    }
  }
  return out;
}

/** a [..., parts * w] -> parts x [..., w], the last axis cut into equal blocks. */
export function splitLastRef(a: Arr, parts: number): Arr[] {
  const width = last(a);
  const w = width / parts;
  return Array.from({ length: parts }, (_, part) => {
    const out = arr([...a.shape.slice(0, -1), w]);
    for (let r = 0; r < a.data.length / width; r++) out.data.set(a.data.subarray(r * width + part * w, r * width + (part + 1) * w), r * w);
    return out;
  });
}

export function layerNormRef(x: Arr, p: Params, prefix: string, eps = 1e-5): Arr {
  const d = last(x);
  const w = p.get(`${prefix}weight`);
  const b = p.get(`${prefix}bias`);
  const out = arr(x.shape);
  for (let r = 0; r < x.data.length / d; r++) {
    let mean = 0;
    for (let k = 0; k < d; k++) mean += x.data[r * d + k]!;
    mean /= d;
    let v = 0;
    for (let k = 0; k < d; k++) v += (x.data[r * d + k]! - mean) ** 2;
    v /= d;
    for (let k = 0; k < d; k++) {
      const y = (x.data[r * d + k]! - mean) / Math.sqrt(v + eps);
      out.data[r * d + k] = y * (w?.data[k] ?? 1) + (b?.data[k] ?? 0);
    }
  }
  return out;
}

export function rmsNormRef(x: Arr, p: Params, prefix: string, eps = 1e-6): Arr {
  const d = last(x);
  const w = p.get(`${prefix}weight`);
  const out = arr(x.shape);
  for (let r = 0; r < x.data.length / d; r++) {
    let ms = 0;
    for (let k = 0; k < d; k++) ms += x.data[r * d + k]! ** 2;
    const scale = 1 / Math.sqrt(ms / d + eps);
    for (let k = 0; k < d; k++) out.data[r * d + k] = x.data[r * d + k]! * scale * (w?.data[k] ?? 1);
  }
  return out;
}

/** erf to ~1e-14: Taylor series below 3, continued fraction for erfc above. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 80; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  let k = ax;
  for (let n = 60; n >= 1; n--) k = ax + n / 2 / k;
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / k);
}

export const map = (a: Arr, f: (v: number) => number): Arr => arr(a.shape, a.data.map(f));
export const geluRef = (a: Arr) => map(a, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
export const siluRef = (a: Arr) => map(a, (v) => v / (1 + Math.exp(-v)));
export const add = (a: Arr, b: Arr): Arr => arr(a.shape, a.data.map((v, i) => v + b.data[i]!));
export const mulElems = (a: Arr, b: Arr): Arr => arr(a.shape, a.data.map((v, i) => v * b.data[i]!));

export function mlpRef(x: Arr, p: Params, prefix: string, activation: 'relu' | 'gelu' | 'swiglu'): Arr {
  const u = linearRef(x, p, `${prefix}up.`);
  let h: Arr;
  if (activation === 'relu') h = map(u, (v) => Math.max(0, v));
  else if (activation === 'gelu') h = geluRef(u);
  else h = mulElems(siluRef(linearRef(x, p, `${prefix}gate.`)), u);
  return linearRef(h, p, `${prefix}down.`);
}

export interface AttentionRefOptions {
  numHeads: number;
  context?: Arr;
  causal?: boolean;
  /** [batch][kvLen], true = visible. */
  keyMask?: boolean[][];
  /** (batch, query, key) -> visible. */
  mask?: (b: number, i: number, j: number) => boolean;
  rotary?: boolean;
  rotaryBase?: number;
  /** Position of the first query (decoding with a cache). */
  offset?: number;
}

function rope(v: Float64Array, pos: number, base: number): Float64Array {
  const dh = v.length;
  const half = dh / 2;
  const out = new Float64Array(dh);
  for (let i = 0; i < half; i++) {
    const a = pos * Math.pow(base, (-2 * i) / dh);
    out[i] = v[i]! * Math.cos(a) - v[i + half]! * Math.sin(a);
    out[i + half] = v[i + half]! * Math.cos(a) + v[i]! * Math.sin(a);
  }
  return out;
}

/** x [B, Sq, D] (context [B, Sk, Dc]) -> [B, Sq, D]; masked scores get -1e9 like the module. */
export function attentionRef(x: Arr, p: Params, prefix: string, o: AttentionRefOptions): Arr {
  const [B, Sq, D] = x.shape as [number, number, number];
  const src = o.context ?? x;
  const Sk = src.shape[1]!;
  const H = o.numHeads;
  const Dh = D / H;
  // self: q, k, v packed in `qkv`; cross: `q`, and k, v packed in `kv` (the module's parameters)
  const [q, k, v] = (o.context === undefined
    ? splitLastRef(linearRef(x, p, `${prefix}qkv.`), 3)
    : [linearRef(x, p, `${prefix}q.`), ...splitLastRef(linearRef(src, p, `${prefix}kv.`), 2)]) as [Arr, Arr, Arr];
  const offset = o.offset ?? 0;
  const ctx = arr([B, Sq, D]);
  const vec = (a: Arr, b: number, s: number, len: number, h: number): Float64Array => a.data.slice((b * len + s) * D + h * Dh, (b * len + s) * D + (h + 1) * Dh);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < Sq; i++) {
        let qi = vec(q, b, i, Sq, h);
        if (o.rotary === true) qi = rope(qi, offset + i, o.rotaryBase ?? 10000);
        const scores = new Float64Array(Sk);
        for (let j = 0; j < Sk; j++) {
          let kj = vec(k, b, j, Sk, h);
          if (o.rotary === true) kj = rope(kj, j, o.rotaryBase ?? 10000);
          let s = 0;
          for (let t = 0; t < Dh; t++) s += qi[t]! * kj[t]!;
          s /= Math.sqrt(Dh);
          let visible = true;
          if (o.causal === true && j > offset + i) visible = false;
          if (o.keyMask !== undefined && !o.keyMask[b]![j]!) visible = false;
          if (o.mask !== undefined && !o.mask(b, i, j)) visible = false;
          scores[j] = visible ? s : s - 1e9;
        }
        const m = Math.max(...scores);
        let z = 0;
        for (let j = 0; j < Sk; j++) z += Math.exp(scores[j]! - m);
        for (let j = 0; j < Sk; j++) {
          const pj = Math.exp(scores[j]! - m) / z;
          const vj = vec(v, b, j, Sk, h);
          for (let t = 0; t < Dh; t++) ctx.data[(b * Sq + i) * D + h * Dh + t]! += pj * vj[t]!;
        }
      }
    }
  }
  return linearRef(ctx, p, `${prefix}out.`);
}

export interface BlockRefOptions {
  numHeads: number;
  norm: 'layer' | 'rms';
  prenorm: boolean;
  activation: 'relu' | 'gelu' | 'swiglu';
  causal?: boolean;
  keyMask?: boolean[][];
  context?: Arr;
  contextKeyMask?: boolean[][];
  /** [B, condDim] for AdaLN-zero blocks. */
  cond?: Arr;
  rotary?: boolean;
}

/** One TransformerBlock, same parameter names (norm1, attn, normCross, crossAttn, norm2, mlp, adaLN). */
export function blockRef(x: Arr, p: Params, prefix: string, o: BlockRefOptions): Arr {
  const norm = (a: Arr, name: string) => (o.norm === 'layer' ? layerNormRef(a, p, `${prefix}${name}.`) : rmsNormRef(a, p, `${prefix}${name}.`));
  const self = (a: Arr) => attentionRef(a, p, `${prefix}attn.`, { numHeads: o.numHeads, causal: o.causal, keyMask: o.keyMask, rotary: o.rotary });
  const cross = (a: Arr) => attentionRef(a, p, `${prefix}crossAttn.`, { numHeads: o.numHeads, context: o.context, keyMask: o.contextKeyMask });
  const mlp = (a: Arr) => mlpRef(a, p, `${prefix}mlp.`, o.activation);
  const hasCross = p.has(`${prefix}crossAttn.q.weight`);
  if (o.cond !== undefined) {
    const [B, S, D] = x.shape as [number, number, number];
    const mod = linearRef(siluRef(o.cond), p, `${prefix}adaLN.proj.`); // [B, 6D]
    const chunk = (c: number, b: number, k: number) => mod.data[b * 6 * D + c * D + k]!;
    const modulate = (a: Arr, shift: number, scale: number) =>
      arr(a.shape, a.data.map((v, idx) => {
        const b = Math.floor(idx / (S * D));
        const k = idx % D;
        return v * (1 + chunk(scale, b, k)) + chunk(shift, b, k);
      }));
    const gated = (a: Arr, gate: number) => arr(a.shape, a.data.map((v, idx) => v * chunk(gate, Math.floor(idx / (S * D)), idx % D)));
    let h = add(x, gated(self(modulate(norm(x, 'norm1'), 0, 1)), 2));
    if (hasCross) h = add(h, cross(norm(h, 'normCross')));
    return add(h, gated(mlp(modulate(norm(h, 'norm2'), 3, 4)), 5));
  }
  if (o.prenorm) {
    let h = add(x, self(norm(x, 'norm1')));
    if (hasCross) h = add(h, cross(norm(h, 'normCross')));
    return add(h, mlp(norm(h, 'norm2')));
  }
  let h = norm(add(x, self(x)), 'norm1');
  if (hasCross) h = norm(add(h, cross(h)), 'normCross');
  return norm(add(h, mlp(h)), 'norm2');
}

/** Rows of `table` [V, D] picked by ids -> [..., D]. */
export function embeddingRef(ids: number[], idsShape: number[], p: Params, prefix: string): Arr {
  const w = param(p, `${prefix}weight`);
  const d = w.shape[1]!;
  const out = arr([...idsShape, d]);
  ids.forEach((id, r) => {
    for (let k = 0; k < d; k++) out.data[r * d + k] = w.data[id * d + k]!;
  });
  return out;
}

/** Mean token cross-entropy of logits [..., V] against integer targets (ignoring -1). */
export function crossEntropyRef(logits: Arr, targets: number[]): number {
  const V = last(logits);
  let total = 0;
  let count = 0;
  targets.forEach((t, r) => {
    if (t === -1) return;
    const row = logits.data.slice(r * V, (r + 1) * V);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    total += lse - row[t]!;
    count += 1;
  });
  return total / Math.max(count, 1);
}
