/** A prepared document: its sentences as token ids (no BOS/EOS), their texts, paragraph flags. */
export interface DatasetDocument {
  id: string;
  /** Token ids per sentence: sentences[i] is sentence i. */
  sentences: Int32Array[];
  /** The text of each sentence (what its token ids decode to). */
  texts: string[];
  /** paragraphStarts[i]: sentence i begins a paragraph. */
  paragraphStarts: boolean[];
}

/** The three splits every prepared dataset has. */
export const SPLITS = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];
