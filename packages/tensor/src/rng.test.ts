import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(42).uniformArray(5);
    const b = new Rng(42).uniformArray(5);
    const c = new Rng(43).uniformArray(5);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('resumes exactly from a saved state', () => {
    const r = new Rng(7);
    r.normalArray(3);
    const saved = JSON.parse(JSON.stringify(r.getState()));
    const next = r.normalArray(4);
    const resumed = Rng.fromState(saved).normalArray(4);
    expect(Array.from(resumed)).toEqual(Array.from(next));
  });

  it('produces plausible uniform and normal statistics', () => {
    const r = new Rng(1);
    const u = r.uniformArray(20000);
    const n = r.normalArray(20000, 0, 2);
    const mean = (xs: Float32Array) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const m = mean(n);
    const std = Math.sqrt(n.reduce((s, x) => s + (x - m) ** 2, 0) / n.length);
    expect(mean(u)).toBeCloseTo(0.5, 1);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(m).toBeCloseTo(0, 1);
    expect(std).toBeCloseTo(2, 1);
  });

  it('rejects bad states and seeds with a clear message', () => {
    expect(() => Rng.fromState({ s: [0, 0, 0, 0] })).toThrow(/all-zero/);
    expect(() => Rng.fromState({ s: [1, 2, 3] } as never)).toThrow(/4 uint32/);
    expect(() => new Rng(1.5)).toThrow(/integer/);
  });

  it('forks independent streams reproducibly', () => {
    const a = new Rng(3).fork().uniformArray(3);
    const b = new Rng(3).fork().uniformArray(3);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});
