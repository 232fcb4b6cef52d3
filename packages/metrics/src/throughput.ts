/** Training throughput from per-step timings. */

export interface StepTiming {
  /** Tokens the step trained on (scored targets). */
  tokens: number;
  /** Wall time of the step in milliseconds. */
  ms: number;
}

export interface Throughput {
  /** Summed tokens / summed seconds over the counted steps. */
  tokensPerS: number;
  stepsPerS: number;
  steps: number;
  tokens: number;
  seconds: number;
}

/** Throughput over `steps`, skipping the first `skip` (warm-up: kernel compilation, caches). */
export function trainingThroughput(steps: readonly StepTiming[], { skip = 0 }: { skip?: number } = {}): Throughput {
  const counted = steps.slice(skip);
  if (counted.length === 0) throw new Error(`trainingThroughput: no steps left after skipping ${skip} of ${steps.length}`);
  let tokens = 0;
  let ms = 0;
  counted.forEach((s, i) => {
    if (!(s.ms > 0 && s.tokens >= 0)) throw new Error(`trainingThroughput: step ${i + skip} has ms ${s.ms} and tokens ${s.tokens} (need ms > 0, tokens >= 0)`);
    tokens += s.tokens;
    ms += s.ms;
  });
  const seconds = ms / 1000;
  return { tokensPerS: tokens / seconds, stepsPerS: counted.length / seconds, steps: counted.length, tokens, seconds };
}
