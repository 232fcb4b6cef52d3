import { SPLITS, type SplitName } from './document.js';

export interface SplitStats {
  documents: number;
  sentences: number;
  tokens: number;
}

/** One histogram bucket: sentences with min..max tokens (max null = no upper bound). */
export interface HistogramBucket {
  min: number;
  max: number | null;
  count: number;
}

/** Something left out of the dataset, with why and a few examples of where. */
export interface FilteredCount {
  reason: string;
  count: number;
  examples: string[];
}

export interface DatasetStats {
  source: string;
  documents: number;
  sentences: number;
  tokens: number;
  characters: number;
  splits: Record<SplitName, SplitStats>;
  /** Sentence lengths in tokens. */
  sentenceLengthHistogram: HistogramBucket[];
  maxSentenceTokens: number;
  meanSentenceTokens: number;
  /** Segments that are pieces of a sentence longer than segment.maxTokens (cut to fit). */
  sentencesSplitForLength: number;
  /**
   * sentencesSplitForLength / sentences: the share of "sentences" that are length-cut pieces
   * rather than whole sentences (or clauses); above {@link SPLIT_SHARE_WARNING} a sentence model
   * mostly learns arbitrary chunks.
   */
  splitForLengthShare: number;
  /** Pieces still longer than segment.maxTokens (kept whole; should be 0). */
  sentencesOverMaxTokens: number;
  filtered: FilteredCount[];
  tokenizer: { vocabSize: number; origin: string };
}

const EDGES = [1, 5, 9, 17, 25, 33, 49, 65, 97, 129, 193, 257];

/** The share of length-split pieces above which preparing a dataset warns. */
export const SPLIT_SHARE_WARNING = 0.1;

/** pieces / sentences, from the counts (stats.json files written before the share was stored have them too). */
export function lengthSplitShare(stats: Pick<DatasetStats, 'sentences' | 'sentencesSplitForLength'>): number {
  return stats.sentences > 0 ? stats.sentencesSplitForLength / stats.sentences : 0;
}

/**
 * The warning for a dataset whose sentences are mostly pieces cut at segment.maxTokens, naming
 * what to change; null at or under {@link SPLIT_SHARE_WARNING}.
 */
export function splitShareWarning(stats: Pick<DatasetStats, 'sentences' | 'sentencesSplitForLength'>, maxTokens?: number): string | null {
  const share = lengthSplitShare(stats);
  if (share <= SPLIT_SHARE_WARNING) return null;
  const limit = maxTokens === undefined ? 'segment.maxTokens' : `segment.maxTokens (${maxTokens})`;
  return (
    `warning: ${percent(share)} of the sentences (${stats.sentencesSplitForLength.toLocaleString('en-US')} of ${stats.sentences.toLocaleString('en-US')}) are pieces of longer ones cut at ${limit}, ` +
    `over ${percent(SPLIT_SHARE_WARNING)}: sentence models would mostly learn arbitrary chunks. Raise segment.maxTokens, tokenizer.vocabSize, or use segment.mode: clause`
  );
}

function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** Accumulates stats while a dataset is written. */
export class StatsBuilder {
  private readonly splits: Record<SplitName, SplitStats> = {
    train: { documents: 0, sentences: 0, tokens: 0 },
    validation: { documents: 0, sentences: 0, tokens: 0 },
    test: { documents: 0, sentences: 0, tokens: 0 },
  };
  private readonly hist = new Array<number>(EDGES.length).fill(0);
  private readonly filtered = new Map<string, FilteredCount>();
  private maxLen = 0;
  private characters = 0;
  splitForLength = 0;
  overMax = 0;

  addDocument(split: SplitName, lengths: readonly number[], characters: number): void {
    const s = this.splits[split];
    s.documents++;
    s.sentences += lengths.length;
    this.characters += characters;
    for (const n of lengths) {
      s.tokens += n;
      if (n > this.maxLen) this.maxLen = n;
      let b = 0;
      while (b + 1 < EDGES.length && n >= EDGES[b + 1]!) b++;
      this.hist[b]!++;
    }
  }

  filter(reason: string, where: string): void {
    let f = this.filtered.get(reason);
    if (!f) {
      f = { reason, count: 0, examples: [] };
      this.filtered.set(reason, f);
    }
    f.count++;
    if (f.examples.length < 5) f.examples.push(where);
  }

  finish(source: string, tokenizer: DatasetStats['tokenizer']): DatasetStats {
    const total = (k: keyof SplitStats): number => SPLITS.reduce((a, s) => a + this.splits[s][k], 0);
    const sentences = total('sentences');
    const tokens = total('tokens');
    return {
      source,
      documents: total('documents'),
      sentences,
      tokens,
      characters: this.characters,
      splits: this.splits,
      sentenceLengthHistogram: EDGES.map((min, i) => ({ min, max: i + 1 < EDGES.length ? EDGES[i + 1]! - 1 : null, count: this.hist[i]! })).filter(
        (b) => b.count > 0,
      ),
      maxSentenceTokens: this.maxLen,
      meanSentenceTokens: sentences > 0 ? Math.round((tokens / sentences) * 100) / 100 : 0,
      sentencesSplitForLength: this.splitForLength,
      splitForLengthShare: lengthSplitShare({ sentences, sentencesSplitForLength: this.splitForLength }),
      sentencesOverMaxTokens: this.overMax,
      filtered: [...this.filtered.values()],
      tokenizer,
    };
  }
}

/**
 * A readable summary of dataset stats (what `exp data prepare` prints); `maxTokens` (the
 * dataset's segment.maxTokens) is named in the length-split warning.
 */
export function formatStats(stats: DatasetStats, { maxTokens }: { maxTokens?: number } = {}): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const lines = [
    `source: ${stats.source}`,
    `tokenizer: ${stats.tokenizer.origin} (vocab ${n(stats.tokenizer.vocabSize)})`,
    '',
    'split        documents   sentences      tokens',
  ];
  for (const s of SPLITS) {
    const x = stats.splits[s];
    lines.push(`${s.padEnd(10)} ${n(x.documents).padStart(11)} ${n(x.sentences).padStart(11)} ${n(x.tokens).padStart(11)}`);
  }
  const empty = SPLITS.filter((sp) => stats.splits[sp].documents === 0);
  lines.push(`${'total'.padEnd(10)} ${n(stats.documents).padStart(11)} ${n(stats.sentences).padStart(11)} ${n(stats.tokens).padStart(11)}`);
  if (empty.length > 0) lines.push(`warning: no documents in ${empty.join(', ')} (a small corpus: raise the fraction or change split.salt)`);
  lines.push('', `sentence length (tokens): mean ${stats.meanSentenceTokens}, max ${stats.maxSentenceTokens}`);
  const peak = Math.max(1, ...stats.sentenceLengthHistogram.map((b) => b.count));
  for (const b of stats.sentenceLengthHistogram) {
    const label = b.max === null ? `${b.min}+` : `${b.min}-${b.max}`;
    lines.push(`  ${label.padStart(8)} ${n(b.count).padStart(9)} ${'#'.repeat(Math.max(1, Math.round((b.count / peak) * 40)))}`);
  }
  lines.push(`sentences split for length: ${n(stats.sentencesSplitForLength)} pieces (${percent(lengthSplitShare(stats))} of all sentences)`);
  const warning = splitShareWarning(stats, maxTokens);
  if (warning !== null) lines.push(warning);
  if (stats.sentencesOverMaxTokens > 0) lines.push(`sentences still over maxTokens (kept whole): ${n(stats.sentencesOverMaxTokens)}`);
  if (stats.filtered.length === 0) lines.push('filtered: nothing');
  for (const f of stats.filtered) lines.push(`filtered: ${n(f.count)} ${f.reason} (e.g. ${f.examples.join(', ')})`);
  return lines.join('\n');
}
