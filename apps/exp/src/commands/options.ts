/** Parsers of numeric command-line option values (commander), shared by the exp commands. */
import { InvalidArgumentError } from 'commander';

/** An integer >= 1. */
export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** A finite number >= min. */
export function num(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`expected a number >= ${min}`);
    return n;
  };
}

/** A finite number > 0. */
export function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || !(n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
}
