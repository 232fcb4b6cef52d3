import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test, vi } from 'vitest';
import { formatNumber, machineInfo, median, printTable, writeBenchResult } from './result.js';

afterEach(() => {
  delete process.env.SENTENCELAB_BENCH_DIR;
});

test('median of odd and even lists', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(() => median([])).toThrow(/empty/);
});

test('writeBenchResult writes the contract object to bench-results/<name>.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  process.env.SENTENCELAB_BENCH_DIR = dir;
  const result = {
    bench: 'demo',
    machine: machineInfo(),
    config: { n: 1 },
    results: [{ system: 'cpu', metric: 'ms_per_step', value: 12.5 }],
  };
  const file = writeBenchResult(result);
  expect(file).toBe(join(dir, 'demo.json'));
  expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(result);
});

test('formatNumber keeps three significant-ish digits', () => {
  expect(formatNumber(1234.4)).toBe('1234');
  expect(formatNumber(12.34)).toBe('12.3');
  expect(formatNumber(1.234)).toBe('1.23');
});

test('printTable right-aligns all-number columns and the ones it is told to (numbers the caller formatted)', () => {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l));
  try {
    printTable(['name', 'ms', '% torch'], [['a', 1.5, '12%'], ['bb', 100, '-']], { right: [2] });
  } finally {
    log.mockRestore();
  }
  expect(lines).toEqual(['name    ms  % torch', '----  ----  -------', 'a     1.50      12%', 'bb     100        -']);
});
