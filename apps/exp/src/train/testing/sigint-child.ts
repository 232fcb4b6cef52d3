/**
 * A child process for the signal and locking tests: trains the tiny model in the run folder
 * `<runsDir>/loop/sigint` (created, or with `resume` reopened and continued), printing
 * `step N` after every step, with the runner's SIGINT/SIGTERM handling. A refused run lock
 * prints its message and exits 3.
 * Usage: node --conditions=source --import tsx sigint-child.ts <runsDir> <steps> [create|resume] [ms per step]
 */
import { join } from 'node:path';
import { createRun, openRunForResume, RunLockedError } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import { interruptOnSigint } from '../../signals.js';
import { trainLoop, TrainingInterrupted } from '../loop.js';
import { TinyStream, tinySetup } from './tiny.js';

const [runsDir, steps, mode = 'create', pauseMs = '20'] = process.argv.slice(2);
await initBackend('cpu', { log: false });
const sig = interruptOnSigint((l) => process.stderr.write(`${l}\n`));
let run;
try {
  run =
    mode === 'resume'
      ? openRunForResume(join(runsDir!, 'loop', 'sigint'))
      : createRun({ root: runsDir!, experiment: 'loop', runId: 'sigint', config: { tiny: true }, seed: 7, backend: 'cpu' });
} catch (e) {
  if (!(e instanceof RunLockedError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exit(3);
}
// Slow each step a little so the parent's signal lands mid-run.
const pause = new Int32Array(new SharedArrayBuffer(4));
const stream = new TinyStream(7, { onBatch: () => Atomics.wait(pause, 0, 0, Number(pauseMs)) });
try {
  await trainLoop({
    ...tinySetup(7, stream),
    run,
    steps: Number(steps),
    evalEvery: 5,
    checkpointEvery: 3,
    keepCheckpoints: 2,
    logEvery: 1,
    resume: mode === 'resume',
    signal: sig.signal,
    progress: { start() {}, update: (u) => process.stdout.write(`step ${u.step}\n`), note() {}, stop() {} },
  });
  run.setStatus('done');
} catch (e) {
  if (!(e instanceof TrainingInterrupted)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exitCode = sig.exitCode();
}
