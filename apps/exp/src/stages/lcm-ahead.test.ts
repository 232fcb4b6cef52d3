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

describe('sentences ahead', () => {
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
    expect(r.horizons).toHaveLength(1);
    expect(r.horizons[0]!.first.map((v) => v[0])).toEqual([104, 106]);
    // The second rollout from the second draws, at another seed (5).
    expect(r.horizons[0]!.second.map((v) => v[0])).toEqual([205, 207]);
    // Windows of 3 sentences each: the context before t, the draw of t, the target.
    expect(head.batches).toEqual([[3, 3], [3, 3]]);
  });

  it("draws the same targets at every horizon, each after a chain of the head's own draws that starts at its teacher-forced one", async () => {
    // One window [0, 10, 20, 30, 40, 50]: targets 10..50 (k = 0..4); horizon 3 needs 2 targets before: k = 2, 3, 4.
    const head = echoHead(16);
    const predictions = doc([100, 101, 102, 103, 104]);
    const second = doc([200, 201, 202, 203, 204]);
    const r = await rollOutAhead(head, [doc([0, 10, 20, 30, 40, 50])], predictions, second, 10, { batchSize: 8, seed: 0, horizon: 3 });
    expect(r.picks).toEqual([2, 3, 4]);
    // Horizon 2 (seeds 4, 5): the teacher-forced draw of t - 1, then the target.
    expect(r.horizons[0]!.first.map((v) => v[0])).toEqual([101 + 4, 102 + 4, 103 + 4]);
    expect(r.horizons[0]!.second.map((v) => v[0])).toEqual([201 + 5, 202 + 5, 203 + 5]);
    // Horizon 3 (steps at seeds 6 then 8; the second rollout 7 then 9): the teacher-forced draw of
    // t - 2, the head's draw of t - 1 after it, then the target after both.
    expect(r.horizons[1]!.first.map((v) => v[0])).toEqual([100 + 6 + 8, 101 + 6 + 8, 102 + 6 + 8]);
    expect(r.horizons[1]!.second.map((v) => v[0])).toEqual([200 + 7 + 9, 201 + 7 + 9, 202 + 7 + 9]);
    // Window lengths (t = 3, 4, 5): horizon 2 reads t sentences then the placeholder (t + 1); horizon 3's first step
    // stops one short (t), its second reads the whole context (t + 1); each rollout of each step one batch.
    expect(head.batches).toEqual([[4, 5, 6], [4, 5, 6], [3, 4, 5], [4, 5, 6], [3, 4, 5], [4, 5, 6]]);
  });

  it('refuses a horizon below 2', async () => {
    const none = doc([0, 0]);
    await expect(rollOutAhead(echoHead(4), [doc([0, 1, 2])], none, none, 1, { batchSize: 2, seed: 0, horizon: 1 })).rejects.toThrow(/horizon must be an integer of at least 2, got 1/);
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
