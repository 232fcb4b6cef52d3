/**
 * A benchmark's command-line options, read one at a time; every bench words its errors the same
 * way (one line naming the bench and the option, which the CLI prints with exit 1):
 *
 *   for (const o of options('attention', args)) {
 *     if (o.name === '--reps') out.reps = o.count();
 *     else if (o.name === '--sizes') out.sizes = o.list(Object.keys(sizes));
 *     else o.unknown();
 *   }
 */
export interface Option {
  /** The option as given, e.g. `--reps`. */
  name: string;
  /** The next argument, the option's value; throws when there is none. */
  value(): string;
  /** The value as a positive integer. */
  count(): number;
  /** The value as a comma-separated, non-empty list of names from `known`. */
  list<T extends string>(known: readonly T[]): T[];
  /** Throws: not an option of this bench. */
  unknown(): never;
}

export function* options(bench: string, args: readonly string[]): Generator<Option> {
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${bench}: ${name} needs a value`);
      return v;
    };
    yield {
      name,
      value,
      count: () => {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new Error(`${bench}: ${name} must be a positive integer, got "${v}"`);
        return n;
      },
      list: <T extends string>(known: readonly T[]) => {
        const v = value();
        const names = v.split(',').filter((s) => s !== '');
        if (names.length === 0 || names.some((s) => !(known as readonly string[]).includes(s))) {
          throw new Error(`${bench}: ${name} takes a comma-separated list of ${known.join(', ')}; got "${v}"`);
        }
        return names as T[];
      },
      unknown: () => {
        throw new Error(`${bench}: unknown option "${name}" (see pnpm bench ${bench} --help)`);
      },
    };
  }
}
