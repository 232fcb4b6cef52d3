/**
 * Ctrl-C handling for long commands: the first SIGINT aborts the returned signal (training
 * checkpoints and marks its run interrupted, then the command exits with 130); a second one
 * exits at once.
 */
export function interruptOnSigint(onFirst: (line: string) => void = (l) => console.error(l)): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (): void => {
    if (controller.signal.aborted) {
      onFirst('second Ctrl-C: exiting without waiting for the checkpoint');
      process.exit(130);
    }
    onFirst('Ctrl-C: saving a checkpoint after the current step (press again to exit at once)');
    controller.abort();
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', handler) };
}
