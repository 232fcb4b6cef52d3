import { expect, test } from 'vitest';
import { parseArgs } from './attention.js';

test('attention options: defaults, sizes, reps, threads; bad values name the option', () => {
  expect(parseArgs([])).toEqual({ sizes: ['medium', 'large'], reps: 10, threads: undefined });
  expect(parseArgs(['--sizes', 'tiny,medium', '--reps', '3', '--threads', '1'])).toEqual({ sizes: ['tiny', 'medium'], reps: 3, threads: 1 });
  expect(() => parseArgs(['--sizes', 'huge'])).toThrow('--sizes takes a comma-separated list of tiny, medium, large; got "huge"');
  expect(() => parseArgs(['--reps', '0'])).toThrow('--reps must be a positive integer, got "0"');
  expect(() => parseArgs(['--fast'])).toThrow('unknown option "--fast"');
});
