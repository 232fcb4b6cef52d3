import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { maskUrl } from '@sentencelab/runs/queue';
import { parseArgs, USAGE } from './server/args.js';
import { startReportServer } from './server/server.js';
import { exportStatic } from './server/static-export.js';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  // pnpm runs root scripts from the workspace root; INIT_CWD is where the user typed the command.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const runsDir = resolve(cwd, args.runs);
  if (!existsSync(runsDir)) process.stderr.write(`note: ${runsDir} does not exist yet; runs appear as they are written\n`);
  if (args.static !== undefined) {
    const { file, runs, bytes } = await exportStatic(runsDir, resolve(cwd, args.static));
    process.stdout.write(`wrote ${file} (${runs} runs, ${(bytes / 1024).toFixed(0)} KiB)\n`);
    return;
  }
  // $EXP_QUEUE as `pnpm exp` reads it; only its masked form is ever printed.
  const queue = args.queue ?? (process.env.EXP_QUEUE || undefined);
  const cacheDir = resolve(cwd, args.cacheDir ?? '.cache/stages');
  const server = await startReportServer({ runsDir, host: args.host, port: args.port, cacheDir, ...(queue !== undefined ? { queue } : {}) });
  process.stdout.write(`sentencelab report: ${server.url} (runs: ${runsDir}, stage cache: ${cacheDir}${queue !== undefined ? `, queue: ${maskUrl(queue)}` : ''})\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
