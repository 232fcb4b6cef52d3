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
  // The payload is kept here: a bar restarted around a note must render the last values, not
  // its template. Notes after stop() (the final evaluation) are plain lines, with no restart.
  let payload: { loss: string; tps: string | number } = { loss: '-', tps: '-' };
  let active = false;
  return {
    start: (total, step) => {
      active = true;
      bar.start(total, step, payload);
    },
    update: (u) => {
      payload = { loss: u.loss.toFixed(4), tps: Math.round(u.tokensPerS) };
      bar.update(u.step, payload);
    },
    note: (line) => {
      if (!active) {
        stream.write(`${label} ${line}\n`);
        return;
      }
      bar.stop();
      stream.write(`${label} ${line}\n`);
      bar.start(bar.getTotal(), (bar as unknown as { value: number }).value, payload);
    },
    stop: () => {
      active = false;
      bar.stop();
    },
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
