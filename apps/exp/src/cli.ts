/**
 * `pnpm exp <command>`: the sentencelab experiment runner. Each command lives in
 * `src/commands/<command>.ts` and exports a commander `Command`.
 */
import { Command } from 'commander';
import { agreeCommand } from './commands/agree.js';
import { compareCommand } from './commands/compare.js';
import { dataCommand } from './commands/data.js';
import { generateCommand } from './commands/generate.js';
import { lensCommand } from './commands/lens.js';
import { lsCommand } from './commands/ls.js';
import { queueCommand } from './commands/queue.js';
import { resultsCommand } from './commands/results.js';
import { resumeCommand } from './commands/resume.js';
import { runCommand } from './commands/run.js';
import { showCommand } from './commands/show.js';
import { workerCommand } from './commands/worker.js';
import { ConfigError } from './config/errors.js';
import { interruptExitCode } from './signals.js';
import { TrainingDiverged, TrainingInterrupted } from './train/errors.js';

const program = new Command('exp')
  .description('sentencelab experiment runner: prepare data, train, evaluate and compare sentence-level LMs')
  .showHelpAfterError()
  .addCommand(runCommand())
  .addCommand(resumeCommand())
  .addCommand(lsCommand())
  .addCommand(showCommand())
  .addCommand(compareCommand())
  .addCommand(resultsCommand())
  .addCommand(generateCommand())
  .addCommand(lensCommand())
  .addCommand(dataCommand())
  .addCommand(workerCommand())
  .addCommand(queueCommand())
  .addCommand(agreeCommand());

// `pnpm exp ls | head`: the reader has gone. Drop the rest of the output instead of dying on an
// unhandled EPIPE with a stack trace (a training run keeps going: its logs are in its run folder).
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`config error: ${e.message}`);
    process.exitCode = 2;
  } else if (e instanceof TrainingInterrupted) {
    console.error(e.message);
    process.exitCode = interruptExitCode();
  } else if (e instanceof TrainingDiverged) {
    console.error(`training diverged: ${e.message}`);
    process.exitCode = 1;
  } else if (e instanceof Error) {
    console.error(`error: ${e.message}`);
    if (process.env.EXP_DEBUG) console.error(e.stack);
    process.exitCode = 1;
  } else {
    throw e;
  }
}
