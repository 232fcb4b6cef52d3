/**
 * Ctrl-C and SIGTERM handling for long commands: the first signal aborts the returned signal
 * (training checkpoints and marks its run interrupted, then the command exits with 130 for
 * SIGINT or 143 for SIGTERM); a second one exits at once (the run is then recorded as
 * interrupted by the run writer's exit hook).
 */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type Handled = keyof typeof EXIT_CODES;

let lastReceived: Handled = 'SIGINT';

/** The exit code for an interrupted command: 143 when the last interrupt was SIGTERM, else 130. */
export function interruptExitCode(): number {
  return EXIT_CODES[lastReceived];
}

export function interruptOnSigint(onFirst: (line: string) => void = (l) => console.error(l)): {
  signal: AbortSignal;
  /** The exit code of the signal that aborted (130 or 143), 0 when none did. */
  exitCode: () => number;
  dispose: () => void;
} {
  const controller = new AbortController();
  let received: Handled | undefined;
  const handlers = Object.fromEntries(
    (Object.keys(EXIT_CODES) as Handled[]).map((name) => [
      name,
      (): void => {
        const what = name === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM';
        if (controller.signal.aborted) {
          onFirst(`second ${what}: exiting without waiting for the checkpoint`);
          process.exit(EXIT_CODES[name]);
        }
        received = name;
        lastReceived = name;
        onFirst(`${what}: saving a checkpoint after the current step (${name === 'SIGINT' ? 'press again' : 'send it again'} to exit at once)`);
        controller.abort();
      },
    ]),
  ) as Record<Handled, () => void>;
  for (const [name, h] of Object.entries(handlers)) process.on(name, h);
  return {
    signal: controller.signal,
    exitCode: () => (received ? EXIT_CODES[received] : 0),
    dispose: () => {
      for (const [name, h] of Object.entries(handlers)) process.off(name, h);
    },
  };
}
