/**
 * A child process for the Ctrl-C test: trains the tiny model in a fresh run folder
 * (`<runsDir>/loop/sigint`), printing `step N` after every step, with the runner's SIGINT
 * handling. Usage: node --conditions=source --import tsx sigint-child.ts <runsDir> <steps>
 */
import { createRun } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import { interruptOnSigint } from '../../signals.js';
import { trainLoop, TrainingInterrupted } from '../loop.js';
import { TinyStream, tinySetup } from './tiny.js';

const [runsDir, steps] = process.argv.slice(2);
await initBackend('cpu', { log: false });
const sig = interruptOnSigint((l) => process.stderr.write(`${l}\n`));
const run = createRun({ root: runsDir!, experiment: 'loop', runId: 'sigint', config: { tiny: true }, seed: 7, backend: 'cpu' });
// Slow each step a little so the parent's SIGINT lands mid-run.
const pause = new Int32Array(new SharedArrayBuffer(4));
const stream = new TinyStream(7, { onBatch: () => Atomics.wait(pause, 0, 0, 20) });
try {
  await trainLoop({
    ...tinySetup(7, stream),
    run,
    steps: Number(steps),
    evalEvery: 5,
    checkpointEvery: 3,
    keepCheckpoints: 2,
    logEvery: 1,
    signal: sig.signal,
    progress: { start() {}, update: (u) => process.stdout.write(`step ${u.step}\n`), note() {}, stop() {} },
  });
  run.setStatus('done');
} catch (e) {
  if (!(e instanceof TrainingInterrupted)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exitCode = 130;
}
