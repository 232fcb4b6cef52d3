import { expect, test } from 'vitest';
import { options } from './options.js';

function parse(args: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of options('demo', args)) {
    if (o.name === '--n') out.n = o.count();
    else if (o.name === '--name') out.name = o.value();
    else if (o.name === '--sizes') out.sizes = o.list(['tiny', 'large'] as const);
    else if (o.name === '--flag') out.flag = true;
    else o.unknown();
  }
  return out;
}

test('reads values, counts, lists and switches in order', () => {
  expect(parse(['--n', '3', '--flag', '--name', 'x', '--sizes', 'large,tiny'])).toEqual({ n: 3, flag: true, name: 'x', sizes: ['large', 'tiny'] });
  expect(parse([])).toEqual({});
});

test('errors name the bench and the option', () => {
  expect(() => parse(['--name'])).toThrow('demo: --name needs a value');
  expect(() => parse(['--n', '0'])).toThrow('demo: --n must be a positive integer, got "0"');
  expect(() => parse(['--n', '2.5'])).toThrow('demo: --n must be a positive integer, got "2.5"');
  expect(() => parse(['--sizes', 'tiny,huge'])).toThrow('demo: --sizes takes a comma-separated list of tiny, large; got "tiny,huge"');
  expect(() => parse(['--sizes', ','])).toThrow('demo: --sizes takes a comma-separated list of tiny, large; got ","');
  expect(() => parse(['--fast'])).toThrow('demo: unknown option "--fast" (see pnpm bench demo --help)');
});
