import { describe, expect, it } from 'vitest';
import { BeamSearch } from './beam.js';
import { argmax, logSoftmax, nucleusDistribution, sampleToken } from './sampling.js';

describe('argmax / logSoftmax', () => {
  it('work on a slice of a flat buffer', () => {
    const flat = Float32Array.from([9, 0, 1, 3, 2, 3]);
    expect(argmax(flat, 2, 4)).toBe(1); // [1, 3, 2, 3] -> first max
    const lp = logSoftmax([0, Math.log(3)]);
    expect(Math.exp(lp[0]!)).toBeCloseTo(0.25, 12);
    expect(Math.exp(lp[1]!)).toBeCloseTo(0.75, 12);
  });
});

describe('nucleusDistribution', () => {
  const logits = Math.log(0.5);
  const row = [Math.log(0.1), logits, Math.log(0.3), Math.log(0.1)];
  it('keeps the smallest most-likely set reaching topP and renormalises', () => {
    const { tokens, probs } = nucleusDistribution(row, { temperature: 1, topP: 0.75 });
    expect([...tokens]).toEqual([1, 2]);
    expect(probs[0]).toBeCloseTo(0.5 / 0.8, 12);
    expect(probs[1]).toBeCloseTo(0.3 / 0.8, 12);
  });
  it('applies the temperature before the softmax', () => {
    // temperature 2 = square roots of the probabilities, renormalised
    const { tokens, probs } = nucleusDistribution(row, { temperature: 2, topP: 1 });
    const roots = [0.1, 0.5, 0.3, 0.1].map(Math.sqrt);
    const z = roots.reduce((a, b) => a + b, 0);
    expect(tokens.length).toBe(4);
    expect(probs[0]).toBeCloseTo(roots[1]! / z, 12);
  });
  it('rejects bad options', () => {
    expect(() => nucleusDistribution(row, { temperature: 1, topP: 0 })).toThrow(/topP/);
    expect(() => nucleusDistribution(row, { temperature: -1, topP: 1 })).toThrow(/temperature/);
  });
});

describe('sampleToken', () => {
  const row = [Math.log(0.2), Math.log(0.5), Math.log(0.3)];
  it('is greedy at temperature 0', () => {
    expect(sampleToken(row, { temperature: 0, topP: 1 }, () => 0.99)).toBe(1);
  });
  it('inverts the cumulative distribution (most likely first)', () => {
    const opts = { temperature: 1, topP: 1 };
    expect(sampleToken(row, opts, () => 0.49)).toBe(1);
    expect(sampleToken(row, opts, () => 0.51)).toBe(2);
    expect(sampleToken(row, opts, () => 0.81)).toBe(0);
    // top-p 0.6 keeps tokens 1 and 2 only
    expect(sampleToken(row, { temperature: 1, topP: 0.6 }, () => 0.999)).toBe(2);
  });
});

/** A toy "model": next-token log-probabilities as a function of the prefix. */
type ToyModel = (prefix: number[]) => number[];

function runBeam(model: ToyModel, batch: number, beamSize: number, maxTokens: number, lengthPenalty: number, eos: number, vocab: number) {
  const search = new BeamSearch({ batch, beamSize, eos, maxTokens, lengthPenalty });
  let prefixes: number[][] = Array.from({ length: search.rows }, () => []);
  while (!search.done) {
    const logits = new Float32Array(search.rows * vocab);
    prefixes.forEach((p, r) => logits.set(model(p), r * vocab));
    const { parents, next } = search.step(logits, vocab);
    prefixes = prefixes.map((_, r) => [...prefixes[parents[r]!]!, next[r]!]);
  }
  return search.best();
}

/** Highest-scoring EOS-terminated sequence by exhaustive enumeration. */
function exhaustive(model: ToyModel, maxTokens: number, eos: number, vocab: number): number[] {
  let best: { tokens: number[]; score: number } = { tokens: [], score: -Infinity };
  const visit = (prefix: number[], score: number) => {
    const lp = model(prefix);
    const end = score + lp[eos]!;
    if (end > best.score) best = { tokens: prefix, score: end };
    if (prefix.length === maxTokens) return;
    for (let v = 0; v < vocab; v++) if (v !== eos) visit([...prefix, v], score + lp[v]!);
  };
  visit([], 0);
  return best.tokens;
}

describe('BeamSearch', () => {
  // vocab {0: EOS, 1, 2}; the greedy first token (1) leads to a flat, low-probability future,
  // while token 2 leads to a near-certain "2 1 EOS".
  const eos = 0;
  const vocab = 3;
  const model: ToyModel = (prefix) => {
    const key = prefix.join(',');
    const probs: Record<string, number[]> = {
      '': [0.05, 0.5, 0.45],
      '1': [0.34, 0.33, 0.33],
      '2': [0.02, 0.96, 0.02],
      '2,1': [0.98, 0.01, 0.01],
    };
    return (probs[key] ?? [0.4, 0.3, 0.3]).map(Math.log);
  };

  it('beam size 1 is greedy; beam size 2 finds the better sequence', () => {
    expect(runBeam(model, 1, 1, 4, 0, eos, vocab)).toEqual([[1]]);
    expect(runBeam(model, 1, 2, 4, 0, eos, vocab)).toEqual([[2, 1]]);
  });

  it('with a wide beam equals exhaustive search, for every sentence of a batch', () => {
    const seeded = (seed: number): ToyModel => (prefix) => {
      // a deterministic pseudo-random distribution per prefix
      let h = seed;
      for (const t of prefix) h = (h * 31 + t + 7) % 1009;
      const w = [1, 2, 3].map((i) => 1 + ((h * (i + 3) * 2654435761) % 97));
      w[eos] = prefix.length < 2 ? 1 : 60;
      const z = w.reduce((a, b) => a + b, 0);
      return w.map((x) => Math.log(x / z));
    };
    const models = [seeded(1), seeded(2), seeded(3)];
    const search = new BeamSearch({ batch: 3, beamSize: 16, eos, maxTokens: 3, lengthPenalty: 0 });
    let prefixes: number[][] = Array.from({ length: search.rows }, () => []);
    while (!search.done) {
      const logits = new Float32Array(search.rows * vocab);
      prefixes.forEach((p, r) => logits.set(models[Math.floor(r / 16)]!(p), r * vocab));
      const { parents, next } = search.step(logits, vocab);
      prefixes = prefixes.map((_, r) => [...prefixes[parents[r]!]!, next[r]!]);
    }
    // the case is not trivial: greedy decoding misses the optimum for every sentence
    const greedy = models.map((m) => runBeam(m, 1, 1, 3, 0, eos, vocab)[0]);
    greedy.forEach((g, i) => expect(g).not.toEqual(search.best()[i]));
    expect(search.best()).toEqual(models.map((m) => exhaustive(m, 3, eos, vocab)));
  });

  it('returns the best truncated beam when nothing ends within maxTokens', () => {
    const never: ToyModel = () => [-50, Math.log(0.6), Math.log(0.4)];
    expect(runBeam(never, 2, 2, 3, 1, eos, vocab)).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    const search = new BeamSearch({ batch: 1, beamSize: 2, eos, maxTokens: 1, lengthPenalty: 1 });
    search.step(Float32Array.from([...never([]), ...never([])]), vocab);
    search.step(Float32Array.from([...never([1]), ...never([2])]), vocab);
    expect(search.done).toBe(true);
    expect(search.endedFlags()).toEqual([false]);
    expect(runBeam(model, 1, 2, 4, 0, eos, vocab)).toEqual([[2, 1]]);
  });

  it('rejects logits of the wrong size', () => {
    const search = new BeamSearch({ batch: 2, beamSize: 2, eos, maxTokens: 3, lengthPenalty: 1 });
    expect(() => search.step(new Float32Array(5), vocab)).toThrow(/expected 4 x 3 logits/);
  });
});
