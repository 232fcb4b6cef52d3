import { SingleBar } from 'cli-progress';

export interface ProgressUpdate {
  step: number;
  loss: number;
  tokensPerS: number;
}

/** What the loop reports to: a bar on a terminal, periodic lines otherwise, or nothing. */
export interface Progress {
  start(total: number, step: number): void;
  update(u: ProgressUpdate): void;
  note(line: string): void;
  stop(): void;
}

/**
 * A cli-progress bar (step, loss, tokens/s, ETA) on a TTY; on a pipe or file, one line per
 * ~5% of the steps so logs stay readable.
 */
export function progressFor(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return lineProgress(label, (l) => stream.write(`${l}\n`));
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} | loss {loss} | {tps} tok/s | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 20,
      stream,
    },
    undefined,
  );
  return {
    start: (total, step) => bar.start(total, step, { loss: '-', tps: '-' }),
    update: (u) => bar.update(u.step, { loss: u.loss.toFixed(4), tps: Math.round(u.tokensPerS) }),
    note: (line) => {
      bar.stop();
      stream.write(`${label} ${line}\n`);
      bar.start(bar.getTotal(), (bar as unknown as { value: number }).value, {});
    },
    stop: () => bar.stop(),
  };
}

/** Plain lines (for pipes, logs and tests). */
export function lineProgress(label: string, write: (line: string) => void): Progress {
  let total = 0;
  let every = 1;
  let t0 = 0;
  let step0 = 0;
  return {
    start(t, step) {
      total = t;
      every = Math.max(1, Math.round(t / 20));
      t0 = performance.now();
      step0 = step;
    },
    update(u) {
      if (u.step % every !== 0 && u.step !== total) return;
      const done = u.step - step0;
      const eta = done > 0 ? (((performance.now() - t0) / done) * (total - u.step)) / 1000 : NaN;
      write(`${label} ${u.step}/${total} | loss ${u.loss.toFixed(4)} | ${Math.round(u.tokensPerS)} tok/s | ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)}s` : '-'}`);
    },
    note: (line) => write(`${label} ${line}`),
    stop() {},
  };
}

export const silentProgress: Progress = { start() {}, update() {}, note() {}, stop() {} };
