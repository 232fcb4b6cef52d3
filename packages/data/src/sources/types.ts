/** One document as a source yields it, before segmentation. */
export interface SourceDocument {
  /** Unique within the corpus; the train/validation/test split is a hash of it. */
  id: string;
  text: string;
  /** Where it came from, for messages: `file`, `file:line` or `file#paragraph`. */
  origin: string;
  /** Index into the source's `files` (for progress). */
  fileIndex: number;
}

/** A corpus: a list of input files and a fresh pass over its documents on each call. */
export interface CorpusSource {
  /** e.g. `brown (500 texts)`, `text: 3 files`. */
  readonly description: string;
  /** The input files, resolved and checked to exist, in reading order. */
  readonly files: readonly string[];
  documents(): AsyncGenerator<SourceDocument>;
}
