import { describe, expect, test } from 'vitest';
import { epochStream } from './streams.js';

function* epochOf(e: number): Generator<string> {
  for (let i = 0; i < 3; i++) yield `e${e}b${i}`;
}

describe('epochStream', () => {
  test('runs through epochs and resumes at the exact batch after seek(position())', () => {
    const a = epochStream({ makeEpoch: epochOf, tokens: () => 1, what: 'test' });
    const first = Array.from({ length: 4 }, () => a.next());
    expect(first).toEqual(['e0b0', 'e0b1', 'e0b2', 'e1b0']);
    const pos = JSON.parse(JSON.stringify(a.position())) as unknown;
    const rest = Array.from({ length: 4 }, () => a.next());
    const b = epochStream({ makeEpoch: epochOf, tokens: () => 1, what: 'test' });
    b.seek(pos);
    expect(Array.from({ length: 4 }, () => b.next())).toEqual(rest);
    expect(rest).toEqual(['e1b1', 'e1b2', 'e2b0', 'e2b1']);
  });

  test('an empty epoch and a bad position are clear errors', () => {
    const empty = epochStream({ makeEpoch: () => [][Symbol.iterator](), tokens: () => 0, what: 'lm batches' });
    expect(() => empty.next()).toThrow('lm batches: an epoch has no batches');
    const s = epochStream({ makeEpoch: epochOf, tokens: () => 1, what: 'x' });
    expect(() => s.seek({ epoch: 0, index: 9 })).toThrow(/past the end of epoch 0/);
    expect(() => s.seek('nope')).toThrow(/bad stream position/);
  });
});
