/**
 * The process a queue worker runs its jobs' pipelines in (one per concurrency slot, reused
 * from job to job). Training on tfjs blocks its event loop for whole steps; kept out of the
 * worker process, it can never stop the worker renewing its job locks. It exits as soon as
 * its worker is gone, mid-step included (orphan-watchdog.ts), so a killed worker leaves no
 * training behind.
 */
import { hostname } from 'node:os';
import { DataError } from '@sentencelab/data';
import { RunFormatError, RunLockedError } from '@sentencelab/runs';
import { startBackend } from '../backend.js';
import { ConfigError } from '../config/errors.js';
import { executePipeline } from '../pipeline/execute.js';
import { stageRegistry } from '../stages/registry.js';
import { TrainingDiverged, TrainingInterrupted } from '../train/errors.js';
import type { Progress, ProgressUpdate } from '../train/progress.js';
import type { PointProgress } from '@sentencelab/runs/queue';
import { exitWithParent } from './orphan-watchdog.js';
import type { ChildReply, ChildRequest } from './protocol.js';

if (!process.send) throw new Error('job-child.ts runs as a child process of `pnpm exp worker`');
const send = (m: ChildReply): void => {
  process.send!(m);
};
process.on('disconnect', () => process.exit(1));
exitWithParent();
// Ctrl-C in a terminal reaches the whole process group: the worker decides (it asks this
// process to checkpoint and stop, then hands the point back to the queue).
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});

/** Errors that fail the same way on every try: the point is marked failed at once. */
function deterministic(e: unknown): boolean {
  return e instanceof ConfigError || e instanceof DataError || e instanceof TrainingDiverged || e instanceof RunFormatError;
}

const registry = stageRegistry();
let controller = new AbortController();

async function run(req: Extract<ChildRequest, { type: 'run' }>): Promise<void> {
  controller = new AbortController();
  const data = req.data;
  const tag = data.type === 'point' ? `${data.sweep}/${data.label || req.jobId}` : `${data.sweep}/shared`;
  const log = (line: string): void => send({ type: 'log', line: `[${tag}] ${line}` });
  const report = (p: Partial<PointProgress>): void => send({ type: 'progress', progress: p });
  try {
    const items = data.type === 'point' ? [{ config: data.config }] : data.items;
    for (const [i, item] of items.entries()) {
      const resumeRunDir = req.resume[i];
      const started = await startBackend(item.config.backend, item.config.gpu);
      const { backend, device } = started;
      report({ host: hostname(), pid: process.pid, backend, ...(device !== undefined ? { device: device.description || `${device.vendor} ${device.device}` } : {}) });
      if (resumeRunDir) log(`resuming ${resumeRunDir} from its latest checkpoint`);
      await executePipeline(item.config, registry, {
        file: data.file,
        overrides: data.type === 'point' ? data.overrides : [],
        label: data.type === 'point' ? data.label : 'shared',
        cacheDir: req.cacheDir,
        ...(resumeRunDir ? { resumeRunDir } : {}),
        signal: controller.signal,
        backend: started,
        log,
        onRunFolder: (stage, runDir) => {
          report({ stage, runDir, step: 0 });
          send({ type: 'runFolder', item: i, stage, runDir });
        },
        progress: (label) => progressToParent(label, report, log),
      });
    }
    send(controller.signal.aborted ? { type: 'failed', message: 'interrupted', interrupted: true, deterministic: false } : { type: 'done' });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // Another process holds the run folder's lock: the point goes back to the queue untried.
    const locked = e instanceof RunLockedError;
    send({ type: 'failed', message, interrupted: e instanceof TrainingInterrupted || controller.signal.aborted, deterministic: deterministic(e), locked });
  }
}

process.on('message', (m: ChildRequest) => {
  if (m.type === 'abort') controller.abort();
  else void run(m);
});
send({ type: 'ready' });

/** Training progress for the job (at most every 500 ms, and always the last step) and a log line every 10 s. */
function progressToParent(label: string, report: (p: Partial<PointProgress>) => void, line: (l: string) => void): Progress {
  let total = 0;
  let last = 0;
  let lastLine = 0;
  return {
    start(t, step) {
      total = t;
      report({ stage: label.replace(/^\[|\]$/g, ''), step, total });
    },
    update(u: ProgressUpdate) {
      const now = Date.now();
      if (now - last < 500 && u.step !== total) return;
      last = now;
      report({ step: u.step, total, loss: u.loss, tokensPerS: u.tokensPerS });
      if (now - lastLine > 10_000 || u.step === total) {
        lastLine = now;
        line(`${label} ${u.step}/${total} | loss ${u.loss.toFixed(4)} | ${Math.round(u.tokensPerS)} tok/s`);
      }
    },
    note: (l) => line(`${label} ${l}`),
    stop() {},
  };
}
