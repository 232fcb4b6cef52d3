/**
 * Noise schedules for the diffusion heads, as plain float64 arrays.
 *
 * Convention (the one diffusers and the LCM code use): `T` training timesteps indexed
 * `t = 0 .. T-1`; `alphaBar[t]` is the signal fraction after `t + 1` noising steps, so
 * `x_t = sqrt(alphaBar[t]) * x0 + sqrt(1 - alphaBar[t]) * eps`. The clean sample sits "before"
 * `t = 0` (alphaBar = 1). With `zeroTerminalSnr`, `alphaBar[T-1]` is exactly 0: the last training
 * step sees pure noise, as the sampler's first step does (Lin et al. 2023).
 */

export type NoiseScheduleKind = 'cosine' | 'linear' | 'sigmoid';

export interface NoiseScheduleOptions {
  kind: NoiseScheduleKind;
  /** Number of training timesteps T. */
  steps: number;
  /** Rescale so that alphaBar[T-1] = 0 while alphaBar[0] is unchanged. */
  zeroTerminalSnr: boolean;
  /** cosine: the offset s in cos^2(((t/T) + s) / (1 + s) * pi/2). */
  cosineOffset: number;
  /** linear: betas go linearly from betaStart to betaEnd. */
  betaStart: number;
  betaEnd: number;
  /** sigmoid: alphaBar(u) follows -sigmoid((u * (end - start) + start) / tau), rescaled to [0, 1]. */
  sigmoidStart: number;
  sigmoidEnd: number;
  sigmoidTau: number;
}

export const defaultScheduleOptions: NoiseScheduleOptions = {
  kind: 'cosine',
  steps: 100,
  zeroTerminalSnr: true,
  cosineOffset: 0.008,
  betaStart: 0.0001,
  betaEnd: 0.02,
  sigmoidStart: -3,
  sigmoidEnd: 3,
  sigmoidTau: 1,
};

export interface NoiseSchedule {
  readonly options: NoiseScheduleOptions;
  readonly steps: number;
  /** alphaBar[t] for t = 0 .. T-1 (float64). */
  readonly alphaBar: Float64Array;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The cosine schedule's continuous alphaBar(u), u in [0, 1] (Nichol & Dhariwal 2021). */
export function cosineAlphaBar(u: number, offset: number): number {
  const f = (v: number) => Math.cos(((v + offset) / (1 + offset)) * (Math.PI / 2)) ** 2;
  return f(u) / f(0);
}

/** The sigmoid schedule's continuous alphaBar(u), u in [0, 1] (Chen 2023); 1 at u=0, 0 at u=1. */
export function sigmoidAlphaBar(u: number, start: number, end: number, tau: number): number {
  const vStart = sigmoid(start / tau);
  const vEnd = sigmoid(end / tau);
  const v = sigmoid((u * (end - start) + start) / tau);
  return Math.min(1, Math.max(0, (vEnd - v) / (vEnd - vStart)));
}

/**
 * Shift and scale sqrt(alphaBar) so its last value is 0 and its first is unchanged
 * (algorithm 1 of Lin et al., "Common diffusion noise schedules and sample steps are flawed").
 */
export function rescaleZeroTerminalSnr(alphaBar: Float64Array): Float64Array {
  const n = alphaBar.length;
  const first = Math.sqrt(alphaBar[0]!);
  const last = Math.sqrt(alphaBar[n - 1]!);
  if (!(first > last)) throw new Error(`zero terminal SNR rescale needs a decreasing schedule (alphaBar[0]=${alphaBar[0]}, alphaBar[T-1]=${alphaBar[n - 1]})`);
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const s = ((Math.sqrt(alphaBar[t]!) - last) * first) / (first - last);
    out[t] = s * s;
  }
  out[n - 1] = 0;
  return out;
}

export function makeSchedule(partial: Partial<NoiseScheduleOptions> = {}): NoiseSchedule {
  const options: NoiseScheduleOptions = { ...defaultScheduleOptions, ...partial };
  const T = options.steps;
  if (!Number.isInteger(T) || T < 2) throw new Error(`schedule.steps must be an integer >= 2, got ${T}`);
  let alphaBar: Float64Array = new Float64Array(T);
  switch (options.kind) {
    case 'cosine':
      for (let t = 0; t < T; t++) alphaBar[t] = cosineAlphaBar((t + 1) / T, options.cosineOffset);
      break;
    case 'sigmoid':
      for (let t = 0; t < T; t++) {
        alphaBar[t] = sigmoidAlphaBar((t + 1) / T, options.sigmoidStart, options.sigmoidEnd, options.sigmoidTau);
      }
      break;
    case 'linear': {
      const { betaStart, betaEnd } = options;
      if (!(betaStart > 0 && betaEnd < 1 && betaStart <= betaEnd)) {
        throw new Error(`schedule: linear needs 0 < betaStart <= betaEnd < 1, got ${betaStart}, ${betaEnd}`);
      }
      let prod = 1;
      for (let t = 0; t < T; t++) {
        const beta = betaStart + ((betaEnd - betaStart) * t) / (T - 1);
        prod *= 1 - beta;
        alphaBar[t] = prod;
      }
      break;
    }
    default:
      throw new Error(`schedule.kind must be cosine | linear | sigmoid, got ${String(options.kind)}`);
  }
  if (options.zeroTerminalSnr) alphaBar = rescaleZeroTerminalSnr(alphaBar);
  return { options, steps: T, alphaBar };
}
