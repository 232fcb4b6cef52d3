/**
 * Ends this process soon after its parent dies, even while its main thread is blocked in a
 * training step or an eval batch. Node's own `disconnect` event only fires at the event loop's
 * next turn, which can be many seconds away on a large model or a loaded machine; all that time
 * a job process whose worker was SIGKILLed would keep training and holding its run folder's
 * lock. A worker thread has an event loop of its own: it reads the parent pid (`process.ppid` is
 * read from the OS on every access) and, once it differs from the one at start (the process was
 * re-parented), SIGKILLs the whole process. Nothing is lost that the parent's death has not
 * already lost: the run folder keeps its last checkpoint, and its lock becomes stale (the pid is
 * gone), so the next worker resumes it.
 */
import { Worker } from 'node:worker_threads';

/** The thread's code: plain CommonJS, so it needs no loader (the thread starts without execArgv). */
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(process.pid, 'SIGKILL');
}, workerData.intervalMs);
`;

/** Starts the watchdog thread (unref'd: it never keeps the process alive); checks every `intervalMs`. */
export function exitWithParent(intervalMs = 250): Worker {
  const thread = new Worker(WATCHDOG, { eval: true, execArgv: [], workerData: { parent: process.ppid, intervalMs } });
  thread.unref();
  return thread;
}
