/** How training stops early, as errors the CLI prints without a stack (no tfjs import here). */

/** Thrown after Ctrl-C, once the checkpoint is written and the run marked interrupted. */
export class TrainingInterrupted extends Error {
  constructor(
    readonly runDir: string,
    readonly step: number,
  ) {
    super(`interrupted at step ${step}; checkpoint saved. Resume with: pnpm exp resume ${runDir}`);
    this.name = 'TrainingInterrupted';
  }
}

/** Thrown when the loss is NaN or infinite; the run is marked failed, its last good checkpoint kept. */
export class TrainingDiverged extends Error {
  constructor(
    readonly runDir: string,
    readonly step: number,
    readonly loss: number,
    readonly lastCheckpointStep: number | undefined,
    what = `the loss is ${loss}`,
  ) {
    super(
      `${what} at step ${step}: training stopped. ` +
        (lastCheckpointStep === undefined
          ? 'No checkpoint was written before it.'
          : `The last good checkpoint (step ${lastCheckpointStep}) is kept in ${runDir}/checkpoints.`) +
        ' Lower the learning rate or enable clipping (train.lr, train.clipNorm).',
    );
    this.name = 'TrainingDiverged';
  }
}
