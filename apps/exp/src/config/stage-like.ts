import { ConfigError, describeAt } from './errors.js';
import { deepMerge, isPlainObject, type Plain } from './merge.js';

/** The key of a stage section that makes it a variant of another stage: `svae-noise: {like: svae, model: {latentNoise: 0.5}}`. */
export const LIKE_KEY = 'like';

/**
 * Resolves `like:` in the `stages:` sections of a composed config (after `extends` and the
 * overrides, so a variant follows its template's overrides too): a section with `like: <stage>`
 * is that stage's resolved section with its own keys merged on top (as `extends` merges: objects
 * key by key, an object whose `type` differs replaces), without the `like` key. Chains resolve
 * (a variant of a variant); a cycle, a missing stage or a `like` that is not a stage name is a
 * ConfigError naming the key and the file that set it. `origins` (key path -> file) gains the
 * template's entries for the keys a variant inherits, so a bad inherited value names the file
 * that wrote it.
 */
export function resolveStageLikes(value: Plain, origins: Map<string, string>, file: string): Plain {
  const stages = value['stages'];
  if (!isPlainObject(stages)) return value;
  const resolved = new Map<string, Plain>();
  const at = (key: string) => origins.get(key) ?? file;
  const resolveOne = (name: string, chain: readonly string[]): Plain => {
    const done = resolved.get(name);
    if (done) return done;
    const section = stages[name];
    if (!isPlainObject(section) || !(LIKE_KEY in section)) {
      const plain = section as Plain;
      resolved.set(name, plain);
      return plain;
    }
    const key = `stages.${name}.${LIKE_KEY}`;
    const { [LIKE_KEY]: like, ...own } = section;
    if (typeof like !== 'string') throw new ConfigError(describeAt(at(key), key, `must be the name of another stage, got ${JSON.stringify(like)}`), at(key), key);
    if (chain.includes(like)) throw new ConfigError(describeAt(at(key), key, `cycle: ${[...chain, like].join(' -> ')}`), at(key), key);
    if (!isPlainObject(stages[like])) {
      throw new ConfigError(describeAt(at(key), key, `no stage named "${like}" (stages: ${Object.keys(stages).join(', ')})`), at(key), key);
    }
    const template = resolveOne(like, [...chain, like]);
    // A copy: a variant shares no object with its template (nor does the YAML written of it).
    const out = deepMerge(structuredClone(template), own) as Plain;
    inheritOrigins(origins, `stages.${like}`, `stages.${name}`);
    origins.delete(key);
    resolved.set(name, out);
    return out;
  };
  const out: Plain = {};
  for (const name of Object.keys(stages)) out[name] = resolveOne(name, [name]);
  return { ...value, stages: out };
}

/** Copies `from.*` origins to `to.*` where `to` set nothing itself (its own keys keep their files). */
function inheritOrigins(origins: Map<string, string>, from: string, to: string): void {
  for (const [k, f] of [...origins]) {
    if (!k.startsWith(`${from}.`)) continue;
    const target = `${to}.${k.slice(from.length + 1)}`;
    if (!origins.has(target)) origins.set(target, f);
  }
}
