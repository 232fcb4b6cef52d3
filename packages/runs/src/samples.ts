import { readFile } from 'node:fs/promises';
import { formatZodIssues, sampleSchema, type Sample } from './format.js';

export interface SamplesContent {
  samples: Sample[];
  /** `samples.jsonl:LINE: reason` for each line that is not a valid sample. */
  problems: string[];
}

/**
 * Parses samples.jsonl text. A last line without its newline is a crash-truncated append and
 * is skipped silently when it does not parse; other bad lines are reported in `problems`.
 */
export function readSamplesText(text: string, file: string): SamplesContent {
  const lines = text.split('\n');
  const complete = text.endsWith('\n') || text.length === 0;
  const samples: Sample[] = [];
  const problems: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    const isTail = i === lines.length - 1 && !complete;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      if (!isTail) problems.push(`${file}:${i + 1}: invalid JSON (${(error as Error).message})`);
      return;
    }
    const parsed = sampleSchema.safeParse(value);
    if (parsed.success) samples.push(parsed.data);
    else problems.push(`${file}:${i + 1}: ${formatZodIssues(parsed.error)}`);
  });
  return { samples, problems };
}

export async function readSamplesFile(file: string): Promise<SamplesContent> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { samples: [], problems: [] };
    throw error;
  }
  return readSamplesText(text, file);
}
