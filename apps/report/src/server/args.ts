export interface ReportArgs {
  runs: string;
  port: number;
  host: string;
  /** Output folder of a static export (no server). */
  static?: string;
  /** Sweep queue URL (`--queue`; the CLI falls back to $EXP_QUEUE). */
  queue?: string;
  /** `pnpm exp`'s stage artifact cache, where the playground finds checkpoints (`--cache-dir`; default .cache/stages). */
  cacheDir?: string;
  help: boolean;
}

export const USAGE = `Usage: pnpm report [--runs ./runs] [--port 4173] [--host 127.0.0.1] [--queue URL] [--cache-dir .cache/stages] [--static out/]

  --runs DIR     runs folder written by \`pnpm exp\` (default ./runs)
  --port N       port to serve on (default 4173; 0 = any free port)
  --host ADDR    address to bind (default 127.0.0.1: this machine only)
  --queue URL    also list a sweep queue's queued, running and failed points
                 (redis://[:password@]host[:port][/db], as pnpm exp run --queue; default: $EXP_QUEUE)
  --cache-dir DIR
                 pnpm exp's stage artifact cache, where the playground finds a run's
                 checkpoint and tokenizer (default .cache/stages, as pnpm exp)
  --static DIR   write DIR/index.html, a self-contained export, and exit
`;

export function parseArgs(argv: readonly string[]): ReportArgs {
  const out: ReportArgs = { runs: 'runs', port: 4173, host: '127.0.0.1', help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      out.help = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!['--runs', '--port', '--host', '--static', '--queue', '--cache-dir'].includes(name)) throw new Error(`unknown argument "${arg}"\n\n${USAGE}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new Error(`${name} needs a value\n\n${USAGE}`);
    if (name === '--runs') out.runs = value;
    else if (name === '--host') out.host = value;
    else if (name === '--static') out.static = value;
    else if (name === '--queue') out.queue = value;
    else if (name === '--cache-dir') out.cacheDir = value;
    else {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer 0-65535, got "${value}"`);
      out.port = port;
    }
  }
  return out;
}
