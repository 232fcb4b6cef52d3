/**
 * A separate process for the lock tests. It stays alive (holding what it took) until killed.
 *   acquire <runDir>   acquireRunLock, then prints `won` or `refused <message>`
 *   create <root>      createRun(<root>/x/r), then prints `ready` (status running, lock held)
 * Usage: node --conditions=source --import tsx lock-child.ts <mode> <path>
 */
import { acquireRunLock, RunLockedError } from '../lock.js';
import { createRun } from '../writer.js';

const [mode, path] = process.argv.slice(2);
if (mode === 'acquire') {
  try {
    acquireRunLock(path!);
    process.stdout.write('won\n');
  } catch (e) {
    if (!(e instanceof RunLockedError)) throw e;
    process.stdout.write(`refused ${e.message}\n`);
  }
} else if (mode === 'create') {
  createRun({ root: path!, experiment: 'x', runId: 'r', config: {}, seed: 1, backend: 'cpu', git: { sha: null, dirty: false } });
  process.stdout.write('ready\n');
} else {
  throw new Error(`lock-child: unknown mode ${mode}`);
}
setInterval(() => {}, 1000);
