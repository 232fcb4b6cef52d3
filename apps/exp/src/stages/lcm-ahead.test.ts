import type { ConceptBatch, ConceptModel } from '@sentencelab/concept-heads';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { rollOutAhead } from './lcm.js';

/**
 * A stand-in head whose draw at each position is the sentence before it plus the seed: what a
 * rollout reads as context shows in what it draws.
 */
function echoHead(maxSentences: number): Pick<ConceptModel, 'predictBatch' | 'config'> & { batches: number[][] } {
  const batches: number[][] = [];
  return {
    batches,
    config: { maxSentences } as ConceptModel['config'],
    async predictBatch(batch: ConceptBatch, options: { seed?: number } = {}) {
      const [b, s, d] = batch.x.shape;
      const [x, mask] = [await batch.x.data(), await batch.mask.data()];
      batches.push(Array.from({ length: b }, (_, r) => Array.from(mask.slice(r * s, (r + 1) * s)).reduce((a, m) => a + m, 0)));
      const out = { predictions: [] as Float32Array[], targets: [] as Float32Array[], previous: [] as Float32Array[] };
      for (let r = 0; r < b; r++) {
        for (let p = 1; p < s; p++) {
          if (mask[r * s + p] !== 1) continue;
          const previous = x.slice((r * s + p - 1) * d, (r * s + p) * d) as Float32Array;
          out.predictions.push(previous.map((v) => v + (options.seed ?? 0)));
          out.targets.push(x.slice((r * s + p) * d, (r * s + p + 1) * d) as Float32Array);
          out.previous.push(previous);
        }
      }
      return out;
    },
  };
}

const doc = (values: number[]) => values.map((v) => Float32Array.of(v));

describe('two sentences ahead', () => {
  beforeAll(async () => {
    await initBackend('cpu', { log: false });
  });

  it("draws each picked target after the head's own draw of the sentence before, in the windows the teacher-forced pass cut", async () => {
    // One document of 5 sentences in windows of 3 overlapping by one: [0, 10, 20] and [20, 30, 40];
    // targets 10, 20 | 30, 40 (k = 0..3). Only k = 1 and k = 3 follow a target of their own window.
    const head = echoHead(3);
    const predictions = doc([100, 101, 102, 103]);
    const second = doc([200, 201, 202, 203]);
    const r = await rollOutAhead(head, [doc([0, 10, 20, 30, 40])], predictions, second, 10, { batchSize: 8, seed: 0 });
    expect(r.picks).toEqual([1, 3]);
    // k = 1: [0, own draw of 10 (100), 20] -> 100 + seed 4; k = 3: [20, own draw of 30 (102), 40] -> 102 + 4.
    expect(r.first.map((v) => v[0])).toEqual([104, 106]);
    // The second rollout from the second draws, at another seed (5).
    expect(r.second.map((v) => v[0])).toEqual([205, 207]);
    // Windows of 3 sentences each: the context before t, the draw of t, the target.
    expect(head.batches).toEqual([[3, 3], [3, 3]]);
  });

  it('spreads a limit over the documents, and rolls out nothing where no target follows another', async () => {
    const head = echoHead(16);
    const docs = [doc([0, 1, 2, 3, 4, 5, 6]), doc([0, 1]), doc([0, 1, 2, 3])];
    const targets = 6 + 1 + 3;
    const none = doc(Array.from({ length: targets }, () => 0));
    const r = await rollOutAhead(head, docs, none, none, 3, { batchSize: 2, seed: 0 });
    // Eligible: document 0's targets 2..6 (k = 1..5), none of document 1's, document 2's 2 and 3 (k = 8, 9).
    expect(r.picks).toHaveLength(3);
    expect(r.picks.every((k) => [1, 2, 3, 4, 5, 8, 9].includes(k))).toBe(true);
    expect(r.picks.some((k) => k >= 8)).toBe(true);
    await expect(rollOutAhead(head, docs, none.slice(1), none, 3, { batchSize: 2, seed: 0 })).rejects.toThrow(/9 predictions for 10 targets/);
  });
});
