import type { z } from 'zod';
import type { textSourceSchema } from '../config.js';
import { readUtf8File, resolveInputs } from './read.js';
import type { CorpusSource, SourceDocument } from './types.js';

/** Paragraphs are separated by one or more blank (whitespace-only) lines. */
const PARAGRAPH_BREAK = /\r?\n[ \t\f\v]*(?:\r?\n[ \t\f\v]*)+(?=\S|$)/;

/**
 * Splits text at blank lines. Whitespace around each paragraph is trimmed and whitespace-only
 * paragraphs are dropped (they hold no text).
 */
export function paragraphs(text: string): string[] {
  return text
    .split(PARAGRAPH_BREAK)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/**
 * Plain text files: one document per file (id: the file's name, {@link inputName}: its path relative
 * to the working directory, or for a file outside it relative to the folder above its pattern's
 * fixed part), or one per paragraph (id: `name#N`, N counting from 1).
 */
export async function textSource(config: z.output<typeof textSourceSchema>, baseDir: string): Promise<CorpusSource> {
  const inputs = await resolveInputs(config.paths, baseDir, 'source.paths');
  const files = inputs.map((f) => f.path);
  return {
    description: `text (${files.length} file${files.length === 1 ? '' : 's'}, one document per ${config.unit})`,
    files,
    async *documents(): AsyncGenerator<SourceDocument> {
      for (let i = 0; i < files.length; i++) {
        const file = files[i]!;
        const name = inputs[i]!.name;
        const text = readUtf8File(file);
        if (config.unit === 'file') {
          yield { id: name, text, origin: file, fileIndex: i };
        } else {
          let n = 0;
          for (const p of paragraphs(text)) {
            n++;
            yield { id: `${name}#${n}`, text: p, origin: `${file}#${n}`, fileIndex: i };
          }
        }
      }
    },
  };
}
