/**
 * `@sentencelab/runs/queue`: the sweep queue as both apps see it (URL parsing and password
 * masking, connection checks, the names in Redis, point states). A separate entry so that
 * reading run folders does not load BullMQ.
 */
export { checkQueue, closeWhenConnected, CONNECT_WAIT_MS, hostOf, maskUrl, openRedis, parseQueueUrl, QueueConnectionError, redisOptions, scrub, type QueueUrl } from './connection.js';
export {
  cancelKey,
  describeProgress,
  finished,
  openQueue,
  QUEUE_NAME,
  SWEEPS_KEY,
  sweepRecord,
  sweepRecords,
  sweepStatus,
  type JobSource,
  type PointProgress,
  type PointState,
  type PointStatus,
  type SweepRecord,
  type SweepStatus,
} from './sweeps.js';
