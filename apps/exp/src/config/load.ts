import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, describeAt } from './errors.js';
import { deepMerge, isPlainObject, setPath, type Plain } from './merge.js';

/**
 * Reads one YAML file as plain data. YAML tags are never executed: the core schema only, and
 * any custom tag (`!!js/function`, `!foo`) is an error naming the file.
 */
export function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(describeAt(file, undefined, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(e)})`), file);
  }
  const doc = parseDocument(text, { schema: 'core', prettyErrors: true, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    const p = problems[0]!;
    const line = p.linePos?.[0];
    throw new ConfigError(`${file}${line ? `:${line.line}:${line.col}` : ''}: ${p.message.split('\n')[0]}`, file);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    // e.g. an alias bomb ("billion laughs"): the yaml package stops it, but names no file.
    throw new ConfigError(describeAt(file, undefined, (e as Error).message), file);
  }
}

/**
 * Loads a config file with its `extends:` chain (a path or list of paths relative to the file,
 * merged left to right, then the file itself on top). Returns the merged plain object without
 * the `extends` key, and the files it came from (outermost last).
 */
export function loadComposed(file: string, seen: string[] = []): { value: Plain; files: string[]; origins: Map<string, string> } {
  const abs = resolve(file);
  if (seen.includes(abs)) throw new ConfigError(describeAt(abs, 'extends', `cycle: ${[...seen, abs].join(' -> ')}`), abs, 'extends');
  const raw = readYaml(abs);
  if (!isPlainObject(raw)) throw new ConfigError(describeAt(abs, undefined, 'the top level must be a mapping (key: value)'), abs);
  const { extends: ext, ...own } = raw;
  const parents = ext === undefined ? [] : Array.isArray(ext) ? ext : [ext];
  let value: Plain = {};
  const files: string[] = [];
  const origins = new Map<string, string>();
  for (const p of parents) {
    if (typeof p !== 'string') throw new ConfigError(describeAt(abs, 'extends', 'must be a path or a list of paths'), abs, 'extends');
    const parent = loadComposed(resolve(dirname(abs), p), [...seen, abs]);
    value = deepMerge(value, parent.value) as Plain;
    files.push(...parent.files);
    for (const [k, f] of parent.origins) origins.set(k, f);
  }
  value = deepMerge(value, own) as Plain;
  recordOrigins(own, abs, '', origins);
  files.push(abs);
  return { value, files, origins };
}

/** key path -> the file that set it last (so an error in an `extends` parent names the parent). */
function recordOrigins(value: unknown, origin: string, prefix: string, into: Map<string, string>): void {
  if (!isPlainObject(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${k}` : k;
    into.set(path, origin);
    recordOrigins(v, origin, path, into);
  }
}

/** The file (or override) a key path's value came from: the longest recorded prefix of `path`. */
function originOf(origins: ReadonlyMap<string, string>, path: readonly string[]): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const hit = origins.get(path.slice(0, n).join('.'));
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** Parses `a.b=value` (value read as a YAML scalar/flow value: `1e-3`, `true`, `[1, 2]`, `foo`). */
export function parseOverride(text: string): { keyPath: string; raw: string; value: unknown } {
  const eq = text.indexOf('=');
  const keyPath = eq > 0 ? text.slice(0, eq).trim() : '';
  if (eq <= 0 || !/^[A-Za-z_][\w-]*(\.[A-Za-z0-9_][\w-]*)*$/.test(keyPath)) {
    throw new ConfigError(`override "${text}": expected key.path=value`);
  }
  const raw = text.slice(eq + 1);
  const doc = parseDocument(raw, { schema: 'core' });
  if (doc.errors.length > 0) throw new ConfigError(`override "${text}": ${doc.errors[0]!.message.split('\n')[0]}`, undefined, keyPath);
  return { keyPath, raw, value: doc.toJS() };
}

export function applyOverrides(value: Plain, overrides: string[], origins?: Map<string, string>): Plain {
  let out = value;
  for (const o of overrides) {
    const { keyPath, value: v } = parseOverride(o);
    origins?.set(keyPath, `override "${o}"`);
    for (const k of [...(origins?.keys() ?? [])]) if (k.startsWith(`${keyPath}.`)) origins!.delete(k);
    try {
      out = setPath(out, keyPath, v);
    } catch (e) {
      throw new ConfigError(`override "${o}": ${(e as Error).message}`, undefined, keyPath);
    }
  }
  return out;
}

/**
 * Formats a zod error as one line per problem: `file: key.path: reason`; `file` may depend on
 * the key path (the file of an `extends` chain, or the override, that set it).
 */
export function formatZodIssues(file: string | undefined | ((path: readonly string[]) => string | undefined), error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path.map(String);
      const keyPath = path.join('.');
      const reason =
        i.code === 'unrecognized_keys' ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message;
      const at = typeof file === 'function' ? file(i.code === 'unrecognized_keys' && i.keys.length === 1 ? [...path, String(i.keys[0])] : path) : file;
      return describeAt(at, keyPath || '(top level)', reason);
    })
    // A stage section's own refinements re-run its schema, so a problem can be reported twice.
    .filter((line, i, all) => all.indexOf(line) === i)
    .join('\n');
}

/**
 * Loads, composes, overrides and validates a config: the single entry point the CLI uses.
 * `resolveComposed` may rewrite the composed, overridden value before validation (a pipeline's
 * `like:` stages). Fails before any work starts, naming the file, key path and reason.
 */
export function loadConfig<S extends z.ZodType>(
  file: string,
  schema: S,
  overrides: string[] = [],
  resolveComposed: (value: Plain, origins: Map<string, string>, file: string) => Plain = (v) => v,
): { config: z.output<S>; files: string[] } {
  const { value, files, origins } = loadComposed(file);
  const merged = resolveComposed(applyOverrides(value, overrides, origins), origins, resolve(file));
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const fileOf = (path: readonly string[]) => originOf(origins, path) ?? resolve(file);
    throw new ConfigError(formatZodIssues(fileOf, parsed.error), resolve(file), first?.path.map(String).join('.'));
  }
  return { config: parsed.data, files };
}
