/** A small seeded PRNG (mulberry32) over a 32-bit state mixed from seed and epoch. */
export function seededRandom(seed: number, epoch = 0): () => number {
  let s = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul((epoch | 0) + 0x632be5ab, 0x85ebca6b)) >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle of a copy of `items`, fixed by (seed, epoch). */
export function shuffled<T>(items: readonly T[], seed: number, epoch = 0): T[] {
  const out = items.slice();
  const rand = seededRandom(seed, epoch);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
