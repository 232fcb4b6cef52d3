import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { writeFileAtomic } from '@sentencelab/fs-atomic';
import { join, resolve } from 'node:path';
import type { Artifact } from '../stages/types.js';

/**
 * Stage artifacts by content hash: `<dir>/<hash>/artifact.json` beside the files it names.
 * A stage writes into a staging folder that is renamed into place only when it succeeded, so
 * the cache never holds half an artifact.
 */
/** The cache's folder of trained-run pointers (`<training hash>.run`), beside the artifacts. */
const TRAINED = 'trained';

export class ArtifactCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  pathOf(hash: string): string {
    return join(this.dir, hash);
  }

  /** The artifact with this hash, or undefined when there is none (or it is unreadable). */
  get(hash: string): Artifact | undefined {
    const file = join(this.pathOf(hash), 'artifact.json');
    if (!existsSync(file)) return undefined;
    try {
      const a = JSON.parse(readFileSync(file, 'utf8')) as Artifact;
      return a.hash === hash ? { ...a, dir: this.pathOf(hash) } : undefined;
    } catch {
      return undefined;
    }
  }

  /** A fresh, empty staging folder for a stage that is about to run. */
  staging(hash: string): string {
    const dir = join(this.dir, `.staging-${hash.slice(0, 16)}-${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * Moves a finished staging folder into place and records its artifact.json. An artifact
   * already there under the same hash is kept when `usable` accepts it (another process, a
   * parallel sweep point, produced the same content meanwhile) and replaced when not (the one
   * the stage was rerun for: its files moved).
   */
  commit(staging: string, artifact: Omit<Artifact, 'dir'>, usable: (existing: Artifact) => boolean = () => true): Artifact {
    const final = this.pathOf(artifact.hash);
    writeFileSync(join(staging, 'artifact.json'), JSON.stringify({ ...artifact, dir: final }, null, 2) + '\n');
    const existing = this.get(artifact.hash);
    if (existing && usable(existing)) {
      this.discard(staging);
      return existing;
    }
    rmSync(final, { recursive: true, force: true });
    try {
      renameSync(staging, final);
    } catch (e) {
      const raced = this.get(artifact.hash);
      if (!raced || !usable(raced)) throw e;
      this.discard(staging);
      return raced;
    }
    return { ...artifact, dir: final };
  }

  /** Records the finished run folder that trained the model of this training hash (see `Stage.evalOnly`). */
  recordTrainedRun(trainingHash: string, runDir: string): void {
    mkdirSync(join(this.dir, TRAINED), { recursive: true });
    writeFileAtomic(join(this.dir, TRAINED, `${trainingHash}.run`), `${runDir}\n`);
  }

  /** The run folder recorded for this training hash, if one was (the caller checks it still holds a finished run). */
  trainedRun(trainingHash: string): string | undefined {
    const pointer = join(this.dir, TRAINED, `${trainingHash}.run`);
    return existsSync(pointer) ? readFileSync(pointer, 'utf8').trim() : undefined;
  }

  discard(staging: string): void {
    rmSync(staging, { recursive: true, force: true });
  }
}
