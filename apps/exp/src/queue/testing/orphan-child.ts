/**
 * A job process stand-in for orphan-watchdog.test.ts: it starts the watchdog (unless its first
 * argument is `off`) and waits until it runs, tells its parent its pid, then blocks its main thread for 20 s, as a long
 * training step does, so only the watchdog thread can notice that its parent is gone.
 */
import { once } from 'node:events';
import { exitWithParent } from '../orphan-watchdog.js';

// Running before the parent goes (a job process starts it long before its first job).
if (process.argv[2] !== 'off') {
  const watchdog = exitWithParent(100);
  watchdog.ref(); // unref'd, it would not keep this await alive
  await once(watchdog, 'online');
  watchdog.unref();
}
process.send!({ pid: process.pid }, undefined, {}, () => {
  for (const until = Date.now() + 20_000; Date.now() < until; );
  process.exit(0);
});
