/**
 * `pnpm exp <command>`: the sentencelab experiment runner. Each command group lives in
 * `src/commands/<group>.ts` and exports a commander `Command`.
 */
import { Command } from 'commander';
import { dataCommand } from './commands/data.js';
import { ConfigError } from './config/errors.js';

const program = new Command('exp')
  .description('sentencelab experiment runner: prepare data, train, evaluate and compare sentence-level LMs')
  .showHelpAfterError()
  .addCommand(dataCommand());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`config error: ${e.message}`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
