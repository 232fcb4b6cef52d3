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
import { PLAYGROUND_KINDS, FILE_ROLES, type FileRole } from '../shared/playground.js';
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
  meta?: { datasetDir?: unknown };
}

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
  paths: Record<FileRole, string>;
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
    const files = {} as Record<FileRole, PlaygroundFileInfo>;
    for (const role of FILE_ROLES) files[role] = { name: basename(r.paths[role]), ...(await this.describe(id, role, r.paths[role])) };
    return { run: id, kind: r.kind, files, segment: r.segment as PlaygroundInfo['segment'], specials: r.specials as PlaygroundInfo['specials'] };
  }

  /** The file of `role` for run `id`, with its length and sha256, ready to stream. */
  async open(id: string, role: string): Promise<{ name: string; bytes: number; sha256: string; stream: () => NodeJS.ReadableStream }> {
    if (!(FILE_ROLES as readonly string[]).includes(role)) throw new RunFileError(`no file role "${role}" (roles: ${FILE_ROLES.join(', ')})`);
    const path = (await this.resolve(id)).paths[role as FileRole];
    const { bytes, sha256 } = await this.describe(id, role as FileRole, path);
    return { name: basename(path), bytes, sha256, stream: () => createReadStream(path) };
  }

  private async resolve(id: string): Promise<Resolved> {
    const folder = await this.store.folder(id);
    if (!folder) throw new RunFileError(`no run "${id}" in the runs folder`);
    const stage = readJson<StageRecord>(join(folder.dir, 'stage.json'), `run ${id}: stage.json`);
    if (typeof stage.kind !== 'string' || !(PLAYGROUND_KINDS as readonly string[]).includes(stage.kind)) {
      throw new RunFileError(`run ${id} is a ${String(stage.kind)} stage; the playground runs ${PLAYGROUND_KINDS.join(' and ')} runs`);
    }
    // A hash is hex (it becomes a folder name under the cache): anything else is refused.
    if (typeof stage.hash !== 'string' || !/^[0-9a-f]{16,128}$/.test(stage.hash)) throw new RunFileError(`run ${id}: stage.json has no valid artifact hash`);
    const artifactDir = join(this.cacheDir, stage.hash);
    const artifact = readJson<ArtifactRecord>(
      join(artifactDir, 'artifact.json'),
      `run ${id}: artifact.json`,
      `run ${id}: its model artifact ${stage.hash.slice(0, 12)} is not in the stage cache (finish or resume the run, or start the report with the --cache-dir that pnpm exp used)`,
    );
    if (artifact.hash !== stage.hash) throw new RunFileError(`run ${id}: artifact ${stage.hash.slice(0, 12)} records another hash`);
    const model = artifact.files?.['model'];
    if (typeof model !== 'string' || basename(model) !== model || model.startsWith('.')) throw new RunFileError(`run ${id}: artifact ${stage.hash.slice(0, 12)} names no model file`);
    const datasetDir = artifact.meta?.datasetDir;
    if (typeof datasetDir !== 'string') throw new RunFileError(`run ${id}: artifact ${stage.hash.slice(0, 12)} names no dataset`);
    const manifest = readJson<DatasetManifest>(join(datasetDir, 'manifest.json'), `run ${id}: its dataset's manifest.json`);
    return {
      kind: stage.kind as PlaygroundKind,
      paths: { checkpoint: join(artifactDir, model), tokenizer: join(datasetDir, 'tokenizer.json') },
      segment: manifest.config?.segment,
      specials: manifest.config?.tokenizer?.specials,
    };
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
