/**
 * `pnpm bench <name> [--flag value ...]`: runs the benchmark in `src/benches/<name>.ts`.
 * Each benchmark module exports `usage` (what `pnpm bench <name> --help` prints) and
 * `run(args)`, which prints a readable table and returns its {@link BenchResult}; the dispatcher
 * prints that object as the very last line and writes it to `bench-results/<name>.json`.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeBenchResult, type BenchModule } from './result.js';

const benchDir = fileURLToPath(new URL('./benches/', import.meta.url));

function available(): string[] {
  return readdirSync(benchDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const names = available();
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(`usage: pnpm bench <name> [options]   (pnpm bench <name> --help: its options)\nbenchmarks: ${names.join(', ')}`);
    return;
  }
  if (!names.includes(name)) {
    console.error(`unknown benchmark "${name}"; available: ${names.join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const mod = (await import(`./benches/${name}.ts`)) as BenchModule;
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(mod.usage);
    return;
  }
  const result = await mod.run(rest);
  const file = writeBenchResult(result);
  console.error(`(written to ${file})`);
  console.log(JSON.stringify(result));
}

try {
  await main(process.argv.slice(2));
} catch (e) {
  // A bad option or a backend that cannot run the size: one line naming it (BENCH_DEBUG=1: the stack).
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  if (process.env['BENCH_DEBUG'] && e instanceof Error) console.error(e.stack);
  process.exitCode = 1;
}
