export type Plain = Record<string, unknown>;

export function isPlainObject(x: unknown): x is Plain {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Deep merge of `over` onto `base`: objects merge key by key, everything else replaces. An
 * object whose `type` differs from the base's is a different thing (`data.source: {type: text}`
 * over a Brown source): it replaces the base object instead of inheriting its keys.
 */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over);
  if ('type' in over && 'type' in base && over.type !== base.type) return structuredClone(over);
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : structuredClone(v);
  return out;
}

/** Sets `a.b.c` in `obj` (creating objects on the way), returning a new object. */
export function setPath(obj: Plain, keyPath: string, value: unknown): Plain {
  const keys = keyPath.split('.');
  const root: Plain = structuredClone(obj);
  let cur: Plain = root;
  for (const [i, k] of keys.entries()) {
    if (i === keys.length - 1) {
      cur[k] = value;
    } else {
      const next = cur[k];
      if (next !== undefined && !isPlainObject(next)) {
        throw new Error(`cannot set ${keyPath}: ${keys.slice(0, i + 1).join('.')} is not an object`);
      }
      cur[k] = next ?? {};
      cur = cur[k] as Plain;
    }
  }
  return root;
}
