/** Parameter counts of any module with dotted parameter names (e.g. `@sentencelab/tensor`'s Module). */

export interface ParameterOwner {
  namedParameters(): readonly (readonly [string, { readonly size: number }])[];
}

export interface ParamCounts {
  total: number;
  /** Scalars per top-level name prefix (`decoder`, `svae`, `embed`...). */
  byPrefix: Record<string, number>;
}

export function countParams(module: ParameterOwner): ParamCounts {
  const byPrefix: Record<string, number> = {};
  let total = 0;
  for (const [name, v] of module.namedParameters()) {
    const dot = name.indexOf('.');
    const prefix = dot < 0 ? name : name.slice(0, dot);
    byPrefix[prefix] = (byPrefix[prefix] ?? 0) + v.size;
    total += v.size;
  }
  return { total, byPrefix };
}
