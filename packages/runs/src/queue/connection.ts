/**
 * The queue URL (`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS): parsing, the
 * masked form every message uses, and a fail-fast reachability check run before anything is
 * enqueued or any work starts. The password only ever lives in memory: it is never written to
 * job data, run folders, logs or the report.
 */
import { Redis, type RedisOptions } from 'ioredis';

export class QueueConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueConnectionError';
  }
}

export interface QueueUrl {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL with its password replaced by `***` (safe to print). */
  masked: string;
}

const USAGE = 'expected redis://[user:password@]host[:port][/db]';

/** Masks the password of anything URL-shaped (also for strings that are not valid URLs). */
export function maskUrl(url: string): string {
  return url.replace(/(\/\/[^/@]*?:)[^/@]*@/, '$1***@');
}

export function parseQueueUrl(url: string): QueueUrl {
  const masked = maskUrl(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueConnectionError(`malformed queue URL "${masked}": ${USAGE}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new QueueConnectionError(`malformed queue URL "${masked}": scheme "${u.protocol}" is not redis: or rediss: (${USAGE})`);
  }
  if (u.hostname === '') throw new QueueConnectionError(`malformed queue URL "${masked}": no host (${USAGE})`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbPart = u.pathname.replace(/^\//, '');
  const db = dbPart === '' ? 0 : Number(dbPart);
  if (!Number.isInteger(db) || db < 0) throw new QueueConnectionError(`malformed queue URL "${masked}": database "${dbPart}" is not a number (${USAGE})`);
  const out: QueueUrl = { host: u.hostname.replace(/^\[|\]$/g, ''), port, db, tls: u.protocol === 'rediss:', masked: maskUrl(u.toString()) };
  if (u.username !== '') out.username = decodeURIComponent(u.username);
  if (u.password !== '') out.password = decodeURIComponent(u.password);
  return out;
}

/** `host:port` as messages name it. */
export function hostOf(q: QueueUrl): string {
  return `${q.host.includes(':') ? `[${q.host}]` : q.host}:${q.port}`;
}

/**
 * ioredis options for long-lived BullMQ clients: commands wait through a Redis restart
 * (`maxRetriesPerRequest: null`, as BullMQ requires for workers) and the client reconnects
 * every few hundred milliseconds, at most 2 s apart.
 */
export function redisOptions(q: QueueUrl): RedisOptions {
  return {
    host: q.host,
    port: q.port,
    db: q.db,
    ...(q.username !== undefined ? { username: q.username } : {}),
    ...(q.password !== undefined ? { password: q.password } : {}),
    ...(q.tls ? { tls: {} } : {}),
    connectTimeout: 5000,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

/** A long-lived ioredis client for the sweep records and cancel flags (BullMQ keeps its own). */
export function openRedis(q: QueueUrl): Redis {
  const client = new Redis(redisOptions(q));
  client.on('error', () => {});
  return client;
}

/** Removes the password from an error message (Redis and ioredis messages can echo what they were given). */
export function scrub(message: string, q: Pick<QueueUrl, 'password'>): string {
  const masked = maskUrl(message);
  return q.password ? masked.split(q.password).join('***') : masked;
}

/**
 * Connects once, authenticates and pings within `timeoutMs`, or throws a QueueConnectionError
 * naming the host (password masked): unreachable, refused, wrong password, or no reply.
 */
export async function checkQueue(url: string, timeoutMs = 5000): Promise<QueueUrl> {
  const q = parseQueueUrl(url);
  const client = new Redis({ ...redisOptions(q), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // ioredis reports the cause (ECONNREFUSED, ENOTFOUND, WRONGPASS) as an event; connect() only says "Connection is closed".
  let cause: string | undefined;
  client.on('error', (e: Error) => {
    cause ??= e.message;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      deadline,
    ]);
    return q;
  } catch (e) {
    const raw = cause ?? (e instanceof Error ? e.message : String(e));
    const why = /WRONGPASS|NOAUTH|invalid password|AUTH .*without any password/i.test(raw) ? `authentication failed (${raw})` : raw;
    throw new QueueConnectionError(`cannot use the queue at ${hostOf(q)} (${q.masked}): ${scrub(why, q)}`);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** How long {@link closeWhenConnected} waits for a client still connecting before closing it anyway. */
export const CONNECT_WAIT_MS = 5000;

/**
 * Closes a BullMQ Queue, Worker or FlowProducer once its connection has finished connecting
 * (at most {@link CONNECT_WAIT_MS}). BullMQ 5.81 closes one that is still connecting by
 * dropping its socket and removing its listeners; the connection attempt then fails with
 * "Connection is closed", emitted as an 'error' event that nothing listens to any more: an
 * uncaught exception. `exp queue` with no sweeps closed its queue that early and died that way
 * in about 1 run in 10.
 */
export async function closeWhenConnected(client: { waitUntilReady(): Promise<unknown>; close(): Promise<void> }): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([client.waitUntilReady().catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, CONNECT_WAIT_MS)))]);
  } finally {
    clearTimeout(timer);
  }
  await client.close();
}
