/**
 * `embeddings.json`: a small sample of a run's sentence vectors for the report's embedding
 * view. A SentenceVAE run writes the vectors of held-out sentences, grouped by document; a
 * concept-head run writes its test documents' sentence vectors plus, for some of them, the
 * head's prediction of that sentence from the sentences before it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@sentencelab/fs-atomic';
import { z } from 'zod';
import { RunFormatError } from './errors.js';
import { formatZodIssues, RUN_FILES } from './format.js';

/**
 * At most this many sentences (and as many predictions): enough for a readable scatter plot,
 * and the file stays under ~1 MB at d = 256 (each number is written with 4 significant digits).
 */
export const MAX_EMBEDDING_SENTENCES = 256;
const SIGNIFICANT_DIGITS = 4;

const vectorSchema = z.array(z.number()).min(1);

export const embeddingsSchema = z
  .strictObject({
    formatVersion: z.literal(1),
    source: z.enum(['svae', 'concept-head']).describe('svae: a SentenceVAE encoding held-out sentences; concept-head: test documents and the head\'s predictions'),
    step: z.number().int().nonnegative().describe('the training step of the model that produced the vectors'),
    dim: z.number().int().positive(),
    documents: z.array(
      z.strictObject({
        id: z.string().describe('the document id in the prepared dataset'),
        sentences: z.array(z.strictObject({ text: z.string(), vector: vectorSchema })),
      }),
    ),
    predictions: z
      .array(
        z.strictObject({
          document: z.number().int().nonnegative().describe('index into documents'),
          sentence: z.number().int().nonnegative().describe('the true next sentence: index into that document\'s sentences'),
          vector: vectorSchema,
        }),
      )
      .default([])
      .describe('concept heads: the predicted vector of each true next sentence, from the sentences before it'),
  })
  .superRefine((e, ctx) => {
    const count = e.documents.reduce((n, d) => n + d.sentences.length, 0);
    if (count > MAX_EMBEDDING_SENTENCES) ctx.addIssue({ code: 'custom', path: ['documents'], message: `${count} sentences, at most ${MAX_EMBEDDING_SENTENCES}` });
    if (e.predictions.length > MAX_EMBEDDING_SENTENCES) ctx.addIssue({ code: 'custom', path: ['predictions'], message: `${e.predictions.length} predictions, at most ${MAX_EMBEDDING_SENTENCES}` });
    e.documents.forEach((d, i) =>
      d.sentences.forEach((s, j) => {
        if (s.vector.length !== e.dim) ctx.addIssue({ code: 'custom', path: ['documents', i, 'sentences', j, 'vector'], message: `length ${s.vector.length}, dim is ${e.dim}` });
      }),
    );
    e.predictions.forEach((p, i) => {
      if (p.vector.length !== e.dim) ctx.addIssue({ code: 'custom', path: ['predictions', i, 'vector'], message: `length ${p.vector.length}, dim is ${e.dim}` });
      if (e.documents[p.document]?.sentences[p.sentence] === undefined) {
        ctx.addIssue({ code: 'custom', path: ['predictions', i], message: `document ${p.document} sentence ${p.sentence} is not in documents` });
      }
    });
  });
export type Embeddings = z.output<typeof embeddingsSchema>;
export type EmbeddingsInput = z.input<typeof embeddingsSchema>;

const round = (x: number) => Number(x.toPrecision(SIGNIFICANT_DIGITS));

/**
 * Validates (dims, bounds, prediction references) and writes `<runDir>/embeddings.json`
 * atomically, numbers rounded to 4 significant digits; throws naming the run folder and key.
 */
export function writeEmbeddings(runDir: string, embeddings: EmbeddingsInput): Embeddings {
  const file = join(runDir, RUN_FILES.embeddings);
  const parsed = embeddingsSchema.safeParse(embeddings);
  if (!parsed.success) throw new RunFormatError(file, formatZodIssues(parsed.error));
  const rounded: Embeddings = {
    ...parsed.data,
    documents: parsed.data.documents.map((d) => ({ id: d.id, sentences: d.sentences.map((s) => ({ text: s.text, vector: s.vector.map(round) })) })),
    predictions: parsed.data.predictions.map((p) => ({ ...p, vector: p.vector.map(round) })),
  };
  writeFileAtomic(file, `${JSON.stringify(rounded)}\n`);
  return rounded;
}

/** The run's embeddings.json, undefined when it has none; a malformed file throws RunFormatError. */
export async function readEmbeddings(runDir: string): Promise<Embeddings | undefined> {
  const file = join(runDir, RUN_FILES.embeddings);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RunFormatError(file, `invalid JSON (${(error as Error).message})`);
  }
  const parsed = embeddingsSchema.safeParse(value);
  if (!parsed.success) throw new RunFormatError(file, formatZodIssues(parsed.error));
  return parsed.data;
}
