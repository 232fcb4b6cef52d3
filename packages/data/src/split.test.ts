import { describe, expect, test } from 'vitest';
import { docHash, splitOf } from './split.js';

const cfg = { validation: 0.1, test: 0.1, salt: '' };
const ids = Array.from({ length: 5000 }, (_, i) => `doc-${i}`);

describe('splitOf', () => {
  test('is a pure function of id and salt, close to the configured fractions', () => {
    const a = ids.map((id) => splitOf(id, cfg));
    expect(ids.map((id) => splitOf(id, cfg))).toEqual(a);
    const count = (s: string) => a.filter((x) => x === s).length / ids.length;
    expect(count('validation')).toBeGreaterThan(0.08);
    expect(count('validation')).toBeLessThan(0.12);
    expect(count('test')).toBeGreaterThan(0.08);
    expect(count('test')).toBeLessThan(0.12);
    // Pinned values: the split must not change between versions or machines.
    expect(['ca01', 'ca02', 'cf12', 'note-1'].map((id) => docHash(id).toFixed(6))).toMatchInlineSnapshot(`
      [
        "0.285177",
        "0.730933",
        "0.025510",
        "0.084306",
      ]
    `);
  });

  test('is stable: adding documents or growing a fraction never moves the others wrongly', () => {
    const before = new Map(ids.slice(0, 1000).map((id) => [id, splitOf(id, cfg)]));
    for (const [id, s] of before) expect(splitOf(id, cfg)).toBe(s);
    const bigger = { validation: 0.2, test: 0.1, salt: '' };
    for (const id of ids) if (splitOf(id, cfg) === 'validation') expect(splitOf(id, bigger)).toBe('validation');
  });

  test('a different salt draws a different split', () => {
    const salted = { ...cfg, salt: 'other' };
    const moved = ids.filter((id) => splitOf(id, cfg) !== splitOf(id, salted)).length;
    expect(moved).toBeGreaterThan(500);
  });
});
