import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@sentencelab/fs-atomic';
import { RunFormatError } from './errors.js';
import { RUN_FILES } from './format.js';

const STEP_NAME = /^step-(\d+)(?:$|\.)/;

/** `step-00000100`: zero-padded so names sort by step. */
export function checkpointName(step: number): string {
  if (!Number.isInteger(step) || step < 0) throw new Error(`checkpoint step must be a non-negative integer, got ${step}`);
  return `step-${String(step).padStart(8, '0')}`;
}

/** The step a checkpoint entry name belongs to (`step-00000100`, `step-00000100.safetensors`...). */
export function checkpointStep(name: string): number | undefined {
  const m = STEP_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

export interface CheckpointRef {
  name: string;
  step: number;
  path: string;
}

export interface CheckpointEntry {
  step: number;
  /** Files or folders of this step (a checkpoint may be several files sharing the `step-N` prefix). */
  entries: string[];
}

export function checkpointsDir(runDir: string): string {
  return join(runDir, RUN_FILES.checkpoints);
}

export function ensureCheckpointsDir(runDir: string): string {
  const dir = checkpointsDir(runDir);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Checkpoints present on disk, oldest step first; temp files (dot-names) are ignored. */
export function listCheckpoints(runDir: string): CheckpointEntry[] {
  const dir = checkpointsDir(runDir);
  if (!existsSync(dir)) return [];
  const bySteps = new Map<number, string[]>();
  for (const entry of readdirSync(dir)) {
    const step = checkpointStep(entry);
    if (step === undefined) continue;
    const list = bySteps.get(step) ?? [];
    list.push(entry);
    bySteps.set(step, list);
  }
  return [...bySteps.entries()].sort((a, b) => a[0] - b[0]).map(([step, entries]) => ({ step, entries: entries.sort() }));
}

/** Points `checkpoints/latest` at `name` atomically; the checkpoint must exist already. */
export function setLatestCheckpoint(runDir: string, name: string): void {
  const dir = ensureCheckpointsDir(runDir);
  if (checkpointStep(name) === undefined) {
    throw new Error(`checkpoint name "${name}" does not start with step-<number> (use checkpointPath(step))`);
  }
  if (!checkpointExists(dir, name)) throw new Error(`checkpoint "${name}" does not exist in ${dir}`);
  writeFileAtomic(join(dir, RUN_FILES.latest), `${name}\n`);
}

function checkpointExists(dir: string, name: string): boolean {
  if (existsSync(join(dir, name))) return true;
  return existsSync(dir) && readdirSync(dir).some((e) => e.startsWith(`${name}.`));
}

/** The checkpoint `latest` points to, or undefined when none was recorded. */
export function latestCheckpoint(runDir: string): CheckpointRef | undefined {
  const dir = checkpointsDir(runDir);
  const pointer = join(dir, RUN_FILES.latest);
  if (!existsSync(pointer)) return undefined;
  const name = readFileSync(pointer, 'utf8').trim();
  const step = checkpointStep(name);
  if (step === undefined) throw new RunFormatError(pointer, `"${name}" is not a checkpoint name (step-<number>)`);
  if (!checkpointExists(dir, name)) throw new RunFormatError(pointer, `points to "${name}", which does not exist`);
  return { name, step, path: join(dir, name) };
}

/**
 * Deletes all but the newest `keep` checkpoints; the one `latest` points to is always kept.
 * Returns the deleted entry names.
 */
export function pruneCheckpoints(runDir: string, keep: number): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`pruneCheckpoints: keep must be an integer >= 1, got ${keep}`);
  const latest = latestCheckpoint(runDir);
  const all = listCheckpoints(runDir);
  const kept = new Set(all.slice(-keep).map((c) => c.step));
  if (latest) kept.add(latest.step);
  const removed: string[] = [];
  for (const c of all) {
    if (kept.has(c.step)) continue;
    for (const entry of c.entries) {
      rmSync(join(checkpointsDir(runDir), entry), { recursive: true, force: true });
      removed.push(entry);
    }
  }
  return removed;
}
