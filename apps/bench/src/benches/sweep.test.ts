import { describe, expect, test } from 'vitest';
import { schedulingOverhead } from './sweep.js';

describe('bench sweep', () => {
  test('scheduling overhead: each point waits from its enqueueing or its worker\'s previous finish, whichever is later, to its start', () => {
    // Worker a: p0 enqueued 0, starts 10, ends 100; p2 enqueued 0, starts 130 (waited 30 after p0's end).
    // Worker b: p1 enqueued 0, starts 20; p3 enqueued 200 (after p1's end at 150), starts 205.
    const { meanMs, maxMs } = schedulingOverhead([
      { id: 'p0', label: 'a', state: 'done', enqueuedAt: 0, startedAt: 10, finishedAt: 100, worker: 'a' },
      { id: 'p1', label: 'b', state: 'done', enqueuedAt: 0, startedAt: 20, finishedAt: 150, worker: 'b' },
      { id: 'p2', label: 'c', state: 'done', enqueuedAt: 0, startedAt: 130, finishedAt: 220, worker: 'a' },
      { id: 'p3', label: 'd', state: 'done', enqueuedAt: 200, startedAt: 205, finishedAt: 300, worker: 'b' },
    ]);
    expect(meanMs).toBe((10 + 20 + 30 + 5) / 4);
    expect(maxMs).toBe(30);
    expect(() => schedulingOverhead([{ id: 'p0', label: 'lr=1', state: 'waiting', enqueuedAt: 0 }])).toThrow(/point lr=1 never started/);
  });
});
