import { describe, expect, it } from 'vitest';
import { flattenSentences, packSentences, teacherForcing, unpackSentences } from './batch.js';

const ids = { pad: 0, bos: 1, eos: 2 };

describe('flattenSentences', () => {
  // 2 docs x 2 sentence slots x 4 tokens; doc 1 has an empty second slot
  const batch = {
    tokens: Int32Array.from([5, 6, 0, 0, 7, 0, 0, 0, 8, 9, 10, 0, 0, 0, 0, 0]),
    lengths: Int32Array.from([2, 1, 3, 0]),
    shape: [2, 2, 4] as const,
  };
  it('keeps non-empty slots in order, trims unused padding columns and remembers slots', () => {
    const flat = flattenSentences(batch, { pad: 0 });
    expect(flat.n).toBe(3);
    expect(flat.maxLen).toBe(3);
    expect([...flat.slots]).toEqual([0, 1, 2]);
    expect([...flat.lengths]).toEqual([2, 1, 3]);
    expect([...flat.tokens]).toEqual([5, 6, 0, 7, 0, 0, 8, 9, 10]);
    expect(unpackSentences(flat)).toEqual([[5, 6], [7], [8, 9, 10]]);
  });
  it('keeps the full width with trim: false and pads with the given id', () => {
    const flat = flattenSentences({ ...batch, tokens: batch.tokens.map((t) => (t === 0 ? 99 : t)) }, { pad: 99, trim: false });
    expect(flat.maxLen).toBe(4);
    expect([...flat.tokens.subarray(4, 8)]).toEqual([7, 99, 99, 99]);
  });
  it('names inconsistent shapes and lengths', () => {
    expect(() => flattenSentences({ ...batch, shape: [2, 2, 5] }, { pad: 0 })).toThrow(/tokens has 16 values, shape \[2, 2, 5\] needs 20/);
    expect(() => flattenSentences({ ...batch, lengths: Int32Array.from([2, 1, 5, 0]) }, { pad: 0 })).toThrow(/lengths\[2\] = 5/);
  });
});

describe('teacherForcing', () => {
  it('shifts right with BOS, appends EOS to targets and masks exactly len + 1 positions', () => {
    const tf = teacherForcing(packSentences([[5, 6], [7, 8, 9]], { pad: 0 }), ids);
    expect(tf.T).toBe(4);
    expect([...tf.inputs]).toEqual([1, 5, 6, 0, 1, 7, 8, 9]);
    expect([...tf.targets]).toEqual([5, 6, 2, 0, 7, 8, 9, 2]);
    expect([...tf.mask]).toEqual([1, 1, 1, 0, 1, 1, 1, 1]);
    expect(tf.count).toBe(7);
  });
  it('rejects empty sentences', () => {
    expect(() => packSentences([[5], []], { pad: 0 })).toThrow(/sentence 1 is empty/);
    expect(() => packSentences([[5, 6, 7]], { pad: 0, maxLen: 2 })).toThrow(/3 tokens, more than maxLen 2/);
  });
});
