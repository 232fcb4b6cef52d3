import { isPlainObject, type Plain } from './merge.js';

/**
 * Leaves out the stages set to `null` (after `extends` and the overrides): a config that extends
 * another drops the stages it does not need with `two-tower: null` under `stages:`, and so does
 * the override `stages.two-tower=null`. A stage section is never null otherwise (the schema wants
 * a mapping), so null can mean nothing else. What named a dropped stage (an input, a `like:`)
 * then fails validation naming it. `origins` loses the dropped stages' keys.
 */
export function dropNullStages(value: Plain, origins: Map<string, string>): Plain {
  const stages = value['stages'];
  if (!isPlainObject(stages)) return value;
  const dropped = Object.keys(stages).filter((name) => stages[name] === null);
  if (dropped.length === 0) return value;
  for (const name of dropped) for (const k of [...origins.keys()]) if (k === `stages.${name}` || k.startsWith(`stages.${name}.`)) origins.delete(k);
  return { ...value, stages: Object.fromEntries(Object.entries(stages).filter(([name]) => !dropped.includes(name))) };
}
