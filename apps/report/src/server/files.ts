/**
 * The model files of listed runs, for the playground: a run's trained checkpoint and its
 * tokenizer, found the way `pnpm exp generate` finds them (the run folder's `stage.json` names
 * the stage artifact by hash; the artifact's `artifact.json` names its checkpoint and its
 * dataset, whose folder holds tokenizer.json and manifest.json). A request names a run id and
 * one of FILE_ROLES, never a path: ids are looked up in the listing, artifact hashes and file
 * names are checked before they are joined to the cache folder.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { PlaygroundFileInfo, PlaygroundInfo, PlaygroundKind } from '../shared/playground.js';
import { FILE_ROLES, HEAD_KINDS, PLAYGROUND_KINDS, type FileRole } from '../shared/playground.js';
import type { RunsStore } from './store.js';

/** What `pnpm exp run` writes beside a run (apps/exp `StageRecord`); only the fields read here. */
interface StageRecord {
  kind?: unknown;
  hash?: unknown;
}

/** A stage artifact's `artifact.json` (apps/exp `Artifact`); only the fields read here. */
interface ArtifactRecord {
  hash?: unknown;
  files?: Record<string, unknown>;
  meta?: { datasetDir?: unknown; svaeDir?: unknown };
}

/** An artifact hash: hex only (it becomes a folder name under the cache). */
const HASH = /^[0-9a-f]{16,128}$/;

interface DatasetManifest {
  config?: { segment?: unknown; tokenizer?: { specials?: unknown } };
}

/** A problem with one run's files; the message names the run and file, relative paths only. */
export class RunFileError extends Error {
  constructor(
    message: string,
    /** 404: nothing to serve for this run (not listed, not a model run, artifact gone). */
    readonly status = 404,
  ) {
    super(message);
  }
}

interface Resolved {
  kind: PlaygroundKind;
  paths: Partial<Record<FileRole, string>>;
  segment: unknown;
  specials: unknown;
}

export class RunFiles {
  readonly cacheDir: string;
  /** sha256 of a file by path, kept while its mtime and size are unchanged. */
  private hashes = new Map<string, { stamp: string; sha256: string }>();

  constructor(
    private readonly store: RunsStore,
    /** The stage artifact cache `pnpm exp` wrote (its `--cache-dir`, default `.cache/stages`). */
    cacheDir: string,
  ) {
    this.cacheDir = resolve(cacheDir);
  }

  /** What the playground needs to load a run: its kind, segmentation, and each file's size and hash. */
  async info(id: string): Promise<PlaygroundInfo> {
    const r = await this.resolve(id);
    const files: Partial<Record<FileRole, PlaygroundFileInfo>> = {};
    for (const role of FILE_ROLES) {
      const path = r.paths[role];
      if (path !== undefined) files[role] = { name: basename(path), ...(await this.describe(id, role, path)) };
    }
    return { run: id, kind: r.kind, files: files as PlaygroundInfo['files'], segment: r.segment as PlaygroundInfo['segment'], specials: r.specials as PlaygroundInfo['specials'] };
  }

  /** The file of `role` for run `id`, with its length and sha256, ready to stream. */
  async open(id: string, role: string): Promise<{ name: string; bytes: number; sha256: string; stream: () => NodeJS.ReadableStream }> {
    if (!(FILE_ROLES as readonly string[]).includes(role)) throw new RunFileError(`no file role "${role}" (roles: ${FILE_ROLES.join(', ')})`);
    const path = (await this.resolve(id)).paths[role as FileRole];
    if (path === undefined) throw new RunFileError(`run ${id} has no ${role} file`);
    const { bytes, sha256 } = await this.describe(id, role as FileRole, path);
    return { name: basename(path), bytes, sha256, stream: () => createReadStream(path) };
  }

  private async resolve(id: string): Promise<Resolved> {
    const folder = await this.store.folder(id);
    if (!folder) throw new RunFileError(`no run "${id}" in the runs folder`);
    const stage = readJson<StageRecord>(join(folder.dir, 'stage.json'), `run ${id}: stage.json`);
    if (typeof stage.kind !== 'string' || !(PLAYGROUND_KINDS as readonly string[]).includes(stage.kind)) {
      throw new RunFileError(`run ${id} is a ${String(stage.kind)} stage; the playground runs ${PLAYGROUND_KINDS.join(', ')} runs`);
    }
    if (typeof stage.hash !== 'string' || !HASH.test(stage.hash)) throw new RunFileError(`run ${id}: stage.json has no valid artifact hash`);
    const kind = stage.kind as PlaygroundKind;
    const artifact = this.artifact(id, stage.hash);
    // A concept head's file is its head; its SentenceVAE is another artifact, named by folder.
    const model = this.modelFile(id, artifact, HEAD_KINDS.includes(kind) ? 'head' : 'model');
    const datasetDir = artifact.record.meta?.datasetDir;
    if (typeof datasetDir !== 'string') throw new RunFileError(`run ${id}: artifact ${stage.hash.slice(0, 12)} names no dataset`);
    const manifest = readJson<DatasetManifest>(join(datasetDir, 'manifest.json'), `run ${id}: its dataset's manifest.json`);
    const paths: Resolved['paths'] = { checkpoint: model, tokenizer: join(datasetDir, 'tokenizer.json') };
    if (HEAD_KINDS.includes(kind)) {
      const svaeDir = artifact.record.meta?.svaeDir;
      const svaeHash = typeof svaeDir === 'string' ? basename(svaeDir) : '';
      // The SentenceVAE's artifact is looked up in this cache by its hash, as the head's was.
      if (!HASH.test(svaeHash)) throw new RunFileError(`run ${id}: artifact ${stage.hash.slice(0, 12)} names no SentenceVAE`);
      paths.svae = this.modelFile(id, this.artifact(id, svaeHash), 'model');
    }
    return { kind, paths, segment: manifest.config?.segment, specials: manifest.config?.tokenizer?.specials };
  }

  /** `<cache>/<hash>/artifact.json` of a run's artifact (`hash` already checked as hex). */
  private artifact(id: string, hash: string): { dir: string; hash: string; record: ArtifactRecord } {
    const dir = join(this.cacheDir, hash);
    const record = readJson<ArtifactRecord>(
      join(dir, 'artifact.json'),
      `run ${id}: artifact.json`,
      `run ${id}: its artifact ${hash.slice(0, 12)} is not in the stage cache (finish or resume the run, or start the report with the --cache-dir that pnpm exp used)`,
    );
    if (record.hash !== hash) throw new RunFileError(`run ${id}: artifact ${hash.slice(0, 12)} records another hash`);
    return { dir, hash, record };
  }

  /** The path of an artifact's file `key` (a plain file name inside its folder, checked). */
  private modelFile(id: string, artifact: { dir: string; hash: string; record: ArtifactRecord }, key: string): string {
    const name = artifact.record.files?.[key];
    if (typeof name !== 'string' || basename(name) !== name || name.startsWith('.')) throw new RunFileError(`run ${id}: artifact ${artifact.hash.slice(0, 12)} names no ${key} file`);
    return join(artifact.dir, name);
  }

  private async describe(id: string, role: FileRole, path: string): Promise<{ bytes: number; sha256: string }> {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st?.isFile()) throw new RunFileError(`run ${id}: its ${role} file ${basename(path)} is missing`);
    const stamp = `${st.mtimeMs}:${st.size}`;
    let cached = this.hashes.get(path);
    if (cached?.stamp !== stamp) {
      cached = { stamp, sha256: await sha256File(path) };
      this.hashes.set(path, cached);
    }
    return { bytes: st.size, sha256: cached.sha256 };
  }
}

function readJson<T>(file: string, what: string, missing = `${what} cannot be read`): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new RunFileError(missing);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new RunFileError(`${what}: not valid JSON`, 500);
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
