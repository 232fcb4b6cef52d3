import { ConfigError } from './errors.js';
import { parseOverride } from './load.js';

/** One point of a sweep: the overrides that define it and a run name made from them. */
export interface SweepPoint {
  overrides: string[];
  /** `lr=0.001,layers=2` style label from the swept keys only; '' when nothing is swept. */
  label: string;
}

/**
 * Splits the values of one override: `a.b=1,2,3` sweeps three values. A value that starts with
 * `[` or `{` is one YAML flow value (a list or map), never a sweep; a quoted value is one value.
 */
export function sweepValues(override: string): { keyPath: string; values: string[] } {
  const { keyPath, raw } = parseOverride(override);
  const trimmed = raw.trim();
  if (/^[[{'"]/.test(trimmed) || !trimmed.includes(',')) return { keyPath, values: [raw] };
  const values = trimmed.split(',').map((v) => v.trim());
  if (values.some((v) => v === '')) throw new ConfigError(`override "${override}": empty value in a sweep list`, undefined, keyPath);
  if (new Set(values).size !== values.length) throw new ConfigError(`override "${override}": repeated value in a sweep list`, undefined, keyPath);
  return { keyPath, values };
}

/**
 * Expands the command-line overrides into the cross product of their swept values, first
 * override slowest. Each point keeps the non-swept overrides and gets a label naming the swept
 * keys by their shortest unambiguous suffix (`stages.lm.train.lr` -> `lr`).
 */
export function expandSweeps(overrides: string[]): SweepPoint[] {
  const parsed = overrides.map(sweepValues);
  const seen = new Set<string>();
  for (const p of parsed) {
    if (seen.has(p.keyPath)) throw new ConfigError(`override ${p.keyPath} given twice`, undefined, p.keyPath);
    seen.add(p.keyPath);
  }
  const swept = parsed.filter((p) => p.values.length > 1).map((p) => p.keyPath);
  const names = shortNames(swept);
  let points: { overrides: string[]; parts: string[] }[] = [{ overrides: [], parts: [] }];
  for (const p of parsed) {
    const next: typeof points = [];
    for (const point of points) {
      for (const v of p.values) {
        const parts = p.values.length > 1 ? [...point.parts, `${names.get(p.keyPath)}=${v}`] : point.parts;
        next.push({ overrides: [...point.overrides, `${p.keyPath}=${v}`], parts });
      }
    }
    points = next;
  }
  return points.map((p) => ({ overrides: p.overrides, label: folderSafe(p.parts.join(',')) }));
}

/** For each key path, its shortest dotted suffix that no other key path ends with. */
function shortNames(keyPaths: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of keyPaths) {
    const parts = k.split('.');
    let n = 1;
    const suffix = (m: number) => parts.slice(-m).join('.');
    while (n < parts.length && keyPaths.some((o) => o !== k && (o === suffix(n) || o.endsWith(`.${suffix(n)}`)))) n++;
    out.set(k, suffix(n));
  }
  return out;
}

/** A label made safe for a folder name (keeps letters, digits and `=,.-_+`). */
export function folderSafe(label: string): string {
  return label.replace(/[^\w=,.+-]/g, '_').slice(0, 120);
}
