import type { z } from 'zod';
import type { jsonlSourceSchema } from '../config.js';
import { DataError } from '../errors.js';
import { readUtf8Lines, resolveInputs } from './read.js';
import type { CorpusSource, SourceDocument } from './types.js';

function field(record: Record<string, unknown>, path: string): unknown {
  let v: unknown = record;
  for (const k of path.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/**
 * JSON Lines files: one document per line, its text in `textField` (dots reach into nested
 * objects), its id in `idField` (string or number) or else `path:line`. Blank lines are skipped;
 * anything else that is not a JSON object with a string text fails naming file and line.
 */
export async function jsonlSource(config: z.output<typeof jsonlSourceSchema>, baseDir: string): Promise<CorpusSource> {
  const inputs = await resolveInputs(config.paths, baseDir, 'source.paths');
  const files = inputs.map((f) => f.path);
  return {
    description: `jsonl (${files.length} file${files.length === 1 ? '' : 's'}, text field "${config.textField}")`,
    files,
    async *documents(): AsyncGenerator<SourceDocument> {
      for (let i = 0; i < files.length; i++) {
        const file = files[i]!;
        const name = inputs[i]!.name;
        for await (const { line, text } of readUtf8Lines(file)) {
          if (text.trim().length === 0) continue;
          const at = `${file}:${line}`;
          let record: unknown;
          try {
            record = JSON.parse(text);
          } catch (e) {
            throw new DataError(`${at}: invalid JSON (${(e as Error).message})`, file);
          }
          if (typeof record !== 'object' || record === null || Array.isArray(record)) {
            throw new DataError(`${at}: expected a JSON object per line`, file);
          }
          const body = field(record as Record<string, unknown>, config.textField);
          if (typeof body !== 'string') {
            throw new DataError(`${at}: field "${config.textField}" is ${body === undefined ? 'missing' : `not a string (${JSON.stringify(body).slice(0, 40)})`}`, file);
          }
          let id = `${name}:${line}`;
          if (config.idField !== null) {
            const raw = field(record as Record<string, unknown>, config.idField);
            if (typeof raw !== 'string' && typeof raw !== 'number') {
              throw new DataError(`${at}: id field "${config.idField}" is ${raw === undefined ? 'missing' : 'not a string or number'}`, file);
            }
            id = String(raw);
          }
          yield { id, text: body, origin: at, fileIndex: i };
        }
      }
    },
  };
}
