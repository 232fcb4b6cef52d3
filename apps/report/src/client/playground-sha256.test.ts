import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256 } from './playground-sha256.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('sha256 (the fallback where Web Crypto is missing)', () => {
  it('equals node:crypto on every length around the padding boundaries and on 1 MB', () => {
    for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000]) {
      const bytes = randomBytes(n);
      expect(hex(sha256(bytes)), `${n} bytes`).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    const big = randomBytes(1 << 20);
    expect(hex(sha256(big))).toBe(createHash('sha256').update(big).digest('hex'));
  });

  it('the FIPS 180-2 example "abc"', () => {
    expect(hex(sha256(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
