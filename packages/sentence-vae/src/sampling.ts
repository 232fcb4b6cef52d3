/**
 * Token choice on one row of logits (a Float32Array of vocabulary size), in plain JS: greedy,
 * temperature + nucleus (top-p) sampling. Decoding reads logits back from the backend once
 * per step anyway, so the choice itself needs no tensors.
 */

/** A uniform random number generator on [0, 1) (e.g. tensor's seeded RNG). */
export type Uniform = () => number;

/** Index of the largest value (the first one on ties). */
export function argmax(row: ArrayLike<number>, offset = 0, size = row.length - offset): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < size; i++) {
    const v = row[offset + i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** Log-softmax of `row[offset .. offset+size)` into a new Float64Array. */
export function logSoftmax(row: ArrayLike<number>, offset = 0, size = row.length - offset): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < size; i++) max = Math.max(max, row[offset + i]!);
  let sum = 0;
  for (let i = 0; i < size; i++) sum += Math.exp(row[offset + i]! - max);
  const logZ = max + Math.log(sum);
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = row[offset + i]! - logZ;
  return out;
}

export interface SampleOptions {
  /** Softmax temperature; 0 means greedy. */
  temperature: number;
  /** Nucleus mass: keep the smallest set of most likely tokens whose probability reaches topP. */
  topP: number;
}

/**
 * The probabilities sampling draws from: softmax(logits / temperature), restricted to the
 * nucleus of mass `topP` and renormalised. Returned as (token, probability) pairs, most likely
 * first.
 */
export function nucleusDistribution(
  row: ArrayLike<number>,
  { temperature, topP }: SampleOptions,
  offset = 0,
  size = row.length - offset,
): { tokens: Int32Array; probs: Float64Array } {
  if (!(temperature > 0)) throw new Error(`nucleusDistribution: temperature must be > 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`nucleusDistribution: topP must be in (0, 1], got ${topP}`);
  const scaled = new Float64Array(size);
  for (let i = 0; i < size; i++) scaled[i] = row[offset + i]! / temperature;
  const logp = logSoftmax(scaled);
  const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => logp[b]! - logp[a]! || a - b);
  let mass = 0;
  let keep = 0;
  while (keep < size && (keep === 0 || mass < topP)) mass += Math.exp(logp[order[keep++]!]!);
  const tokens = Int32Array.from(order.slice(0, keep));
  const probs = new Float64Array(keep);
  for (let i = 0; i < keep; i++) probs[i] = Math.exp(logp[tokens[i]!]!) / mass;
  return { tokens, probs };
}

/** Choose one token: greedy when temperature is 0, otherwise a draw from the nucleus distribution. */
export function sampleToken(
  row: ArrayLike<number>,
  options: SampleOptions,
  uniform: Uniform,
  offset = 0,
  size = row.length - offset,
): number {
  if (options.temperature === 0) return argmax(row, offset, size);
  const { tokens, probs } = nucleusDistribution(row, options, offset, size);
  const u = uniform();
  let cumulative = 0;
  for (let i = 0; i < tokens.length; i++) {
    cumulative += probs[i]!;
    if (u < cumulative) return tokens[i]!;
  }
  return tokens[tokens.length - 1]!;
}
