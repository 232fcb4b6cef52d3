import { describe, expect, it } from 'vitest';
import { makeSchedule } from './schedule.js';

/** The cosine schedule written out independently of the implementation. */
const cosineFormula = (u: number, s = 0.008) =>
  Math.cos(((u + s) / (1 + s)) * (Math.PI / 2)) ** 2 / Math.cos((s / (1 + s)) * (Math.PI / 2)) ** 2;

describe('noise schedules', () => {
  it('cosine with zero terminal SNR: alphaBar matches its formula at t=0 and is exactly 0 at t=T', () => {
    const T = 100;
    const s = makeSchedule({ kind: 'cosine', steps: T, zeroTerminalSnr: true });
    expect(s.alphaBar.length).toBe(T);
    expect(s.alphaBar[0]).toBeCloseTo(cosineFormula(1 / T), 14);
    expect(s.alphaBar[T - 1]).toBe(0);
    // In between, sqrt(alphaBar) is the affine map of the original that fixes t=0 and zeroes t=T.
    const [a0, aT, a50] = [cosineFormula(1 / T), cosineFormula(1), cosineFormula(50 / T)].map(Math.sqrt) as [number, number, number];
    expect(Math.sqrt(s.alphaBar[49]!)).toBeCloseTo(((a50 - aT) * a0) / (a0 - aT), 12);
    for (let t = 1; t < T; t++) expect(s.alphaBar[t]!).toBeLessThan(s.alphaBar[t - 1]!);
  });

  it('cosine without the rescale is the plain formula, with a tiny positive alphaBar at t=T', () => {
    const s = makeSchedule({ kind: 'cosine', steps: 20, zeroTerminalSnr: false });
    for (let t = 0; t < 20; t++) expect(s.alphaBar[t]).toBeCloseTo(cosineFormula((t + 1) / 20), 14);
    expect(s.alphaBar[19]!).toBeGreaterThan(0);
  });

  it('linear is the cumulative product of 1 - beta with linearly spaced betas', () => {
    const s = makeSchedule({ kind: 'linear', steps: 5, zeroTerminalSnr: false, betaStart: 0.1, betaEnd: 0.5 });
    const betas = [0.1, 0.2, 0.3, 0.4, 0.5];
    let prod = 1;
    betas.forEach((b, t) => {
      prod *= 1 - b;
      expect(s.alphaBar[t]).toBeCloseTo(prod, 14);
    });
    const z = makeSchedule({ kind: 'linear', steps: 5, zeroTerminalSnr: true, betaStart: 0.1, betaEnd: 0.5 });
    expect(z.alphaBar[0]).toBeCloseTo(0.9, 14);
    expect(z.alphaBar[4]).toBe(0);
  });

  it('sigmoid decreases from near 1 to 0', () => {
    const s = makeSchedule({ kind: 'sigmoid', steps: 50, zeroTerminalSnr: false });
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const expected0 = (sig(3) - sig((1 / 50) * 6 - 3)) / (sig(3) - sig(-3));
    expect(s.alphaBar[0]).toBeCloseTo(expected0, 14);
    expect(s.alphaBar[49]).toBeCloseTo(0, 14);
    for (let t = 1; t < 50; t++) expect(s.alphaBar[t]!).toBeLessThan(s.alphaBar[t - 1]!);
  });

  it('rejects bad options with the field name', () => {
    expect(() => makeSchedule({ steps: 1 })).toThrow(/schedule.steps/);
    expect(() => makeSchedule({ kind: 'linear', betaStart: 0.5, betaEnd: 0.1 })).toThrow(/betaStart <= betaEnd/);
  });
});
