import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { closeWhenConnected, openRedis, parseQueueUrl } from './connection.js';
import { openQueue } from './sweeps.js';
import { redisMissing, startRedis, type TestRedis } from './testing/redis.js';

const missing = redisMissing();

describe.skipIf(missing !== undefined)('closing a BullMQ client on a real Redis', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  test('closeWhenConnected never leaves an uncaught "Connection is closed" behind, whenever it is called', async () => {
    // BullMQ 5.81 closing a queue part-way through connecting: its connection attempt then fails
    // as an 'error' event with no listener, an uncaught exception (9 of these 60 closes with
    // queue.close() here; `exp queue` died of it in CI).
    const uncaught: string[] = [];
    const onUncaught = (e: Error) => uncaught.push(e.message);
    process.on('uncaughtException', onUncaught);
    const q = parseQueueUrl(redis.url);
    const other = openRedis(q);
    try {
      await other.ping();
      for (let i = 0; i < 60; i++) {
        const queue = openQueue(q);
        // Close after 0..5 round trips of another client: at every stage of the queue's own connecting.
        for (let k = 0; k < i % 6; k++) await other.ping();
        await closeWhenConnected(queue);
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      other.disconnect();
    }
  }, 60_000);
});
