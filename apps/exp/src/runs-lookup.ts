import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listRuns, type RunInfo } from '@sentencelab/runs';

/**
 * Finds a run from what a user types: a run folder path, `<experiment>/<runId>`, or a unique
 * part of a run id (`lm@lr=0.001`, a timestamp prefix). Ambiguity and absence are errors
 * listing the candidates.
 */
export async function resolveRunDir(arg: string, runsDir: string): Promise<string> {
  if (existsSync(join(arg, 'meta.json'))) return resolve(arg);
  const inRoot = join(runsDir, arg);
  if (existsSync(join(inRoot, 'meta.json'))) return resolve(inRoot);
  const runs = await listRuns(runsDir);
  const hits = runs.filter((r) => r.id === arg || r.runId === arg || r.id.includes(arg));
  if (hits.length === 1) return hits[0]!.dir;
  if (hits.length === 0) throw new Error(`no run matches "${arg}" (not a run folder, and no run id in ${resolve(runsDir)} contains it)`);
  throw new Error(`"${arg}" matches ${hits.length} runs: ${hits.slice(0, 10).map((r) => r.id).join(', ')}${hits.length > 10 ? ', ...' : ''}`);
}

export function describeRunInfo(r: RunInfo): string {
  return r.ok ? `${r.id} (${r.meta.status})` : `${r.id} (unreadable: ${r.error})`;
}
