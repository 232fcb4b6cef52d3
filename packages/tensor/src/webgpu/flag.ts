/**
 * This package's tfjs flags (`SL_WEBGPU_*`): registered once per process (a second copy of the
 * module finds the flag there), and a value `check` refuses leaves the flag as it was. tfjs
 * stores a value before its set hook runs, so the refused one is put back before the error.
 */
import * as tf from '@tensorflow/tfjs-core';

type FlagValue = string | number | boolean;

interface EnvInternals {
  flagRegistry: Record<string, unknown>;
  flags: Record<string, FlagValue>;
}

/** Registers `name` with `fallback`; `check` returns an error message for a value it refuses, else undefined. */
export function registerCheckedFlag(name: string, fallback: FlagValue, check: (v: unknown) => string | undefined): void {
  const env = tf.env() as unknown as EnvInternals;
  if (name in env.flagRegistry) return;
  let accepted: FlagValue = fallback;
  tf.env().registerFlag(name, () => fallback, (v) => {
    const problem = check(v);
    if (problem !== undefined) {
      env.flags[name] = accepted;
      throw new Error(`${name} ${problem}, got ${typeof v === 'string' ? `"${v}"` : String(v)}`);
    }
    accepted = v as FlagValue;
  });
}
