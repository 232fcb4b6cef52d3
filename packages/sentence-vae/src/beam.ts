import { logSoftmax } from './sampling.js';

export interface BeamSearchOptions {
  /** Number of sentences decoded together. */
  batch: number;
  beamSize: number;
  eos: number;
  /** Most tokens a hypothesis may hold, EOS not counted. */
  maxTokens: number;
  /** Hypotheses are ranked by logProb / length^lengthPenalty (length counts the EOS); 0 = raw sum. */
  lengthPenalty: number;
}

interface Hypothesis {
  tokens: number[];
  score: number;
  /** false for a beam cut at maxTokens. */
  ended: boolean;
}

/** What the decoder must do before the next step. */
export interface BeamStep {
  /** parents[r] = the row whose state (KV cache) row r continues: gather the cache with it. */
  parents: Int32Array;
  /** next[r] = the token to feed at row r on the next step. */
  next: Int32Array;
}

/**
 * Beam-search bookkeeping over `batch * beamSize` decoder rows (row r belongs to sentence
 * floor(r / beamSize)). The decoder runs the rows, hands their next-token logits to `step`,
 * reorders its KV cache by `parents` and feeds `next`. A sentence stops (Hugging Face's
 * `early_stopping=false` rule) once it holds `beamSize` finished hypotheses and no live beam can
 * still beat the worst of them at the current length; rows of stopped sentences are dummies.
 */
export class BeamSearch {
  readonly rows: number;
  private readonly scores: Float64Array;
  private live: number[][];
  private readonly finished: Hypothesis[][];
  private readonly stopped: boolean[];
  private steps = 0;

  constructor(private readonly options: BeamSearchOptions) {
    const { batch, beamSize, maxTokens } = options;
    if (!(Number.isInteger(beamSize) && beamSize >= 1)) throw new Error(`BeamSearch: beamSize must be an integer >= 1, got ${beamSize}`);
    if (!(Number.isInteger(maxTokens) && maxTokens >= 0)) throw new Error(`BeamSearch: maxTokens must be an integer >= 0, got ${maxTokens}`);
    this.rows = batch * beamSize;
    this.scores = new Float64Array(this.rows).fill(-Infinity);
    // Only the first beam of each sentence is live at the start, so the k beams don't duplicate.
    for (let b = 0; b < batch; b++) this.scores[b * beamSize] = 0;
    this.live = Array.from({ length: this.rows }, () => []);
    this.finished = Array.from({ length: batch }, () => []);
    this.stopped = new Array<boolean>(batch).fill(false);
  }

  get done(): boolean {
    return this.stopped.every(Boolean);
  }

  private normalised(score: number, length: number): number {
    return score / Math.max(1, length) ** this.options.lengthPenalty;
  }

  private addFinished(sentence: number, tokens: number[], rawScore: number, length: number, ended: boolean): void {
    const list = this.finished[sentence]!;
    list.push({ tokens, score: this.normalised(rawScore, length), ended });
    list.sort((a, b) => b.score - a.score);
    if (list.length > this.options.beamSize) list.length = this.options.beamSize;
  }

  /**
   * Advance every live beam by one token.
   * @param logits next-token logits, [rows * vocab] row-major
   */
  step(logits: ArrayLike<number>, vocab: number): BeamStep {
    const { batch, beamSize: k, eos, maxTokens } = this.options;
    if (logits.length !== this.rows * vocab) {
      throw new Error(`BeamSearch.step: expected ${this.rows} x ${vocab} logits, got ${logits.length} values`);
    }
    const length = this.steps + 1;
    const lastStep = this.steps >= maxTokens;
    const parents = new Int32Array(this.rows);
    const next = new Int32Array(this.rows).fill(eos);
    const newScores = new Float64Array(this.rows).fill(-Infinity);
    const newLive: number[][] = Array.from({ length: this.rows }, () => []);
    for (let s = 0; s < batch; s++) {
      for (let j = 0; j < k; j++) parents[s * k + j] = s * k + j;
      if (this.stopped[s]) continue;
      // Top 2k (row, token) candidates: enough to refill k beams even if k of them are EOS.
      const m = 2 * k;
      const candScore: number[] = [];
      const candRow: number[] = [];
      const candToken: number[] = [];
      for (let j = 0; j < k; j++) {
        const r = s * k + j;
        const base = this.scores[r]!;
        if (base === -Infinity) continue;
        const lp = logSoftmax(logits, r * vocab, vocab);
        for (let v = 0; v < vocab; v++) {
          const score = base + lp[v]!;
          if (candScore.length === m && score <= candScore[m - 1]!) continue;
          let at = candScore.length;
          while (at > 0 && candScore[at - 1]! < score) at--;
          candScore.splice(at, 0, score);
          candRow.splice(at, 0, r);
          candToken.splice(at, 0, v);
          if (candScore.length > m) {
            candScore.pop();
            candRow.pop();
            candToken.pop();
          }
        }
      }
      let filled = 0;
      for (let c = 0; c < candScore.length && filled < k; c++) {
        const row = candRow[c]!;
        const token = candToken[c]!;
        if (token === eos) {
          // An EOS ranked below the k best candidates can't be among the k best finished ones.
          if (c < k) this.addFinished(s, this.live[row]!, candScore[c]!, length, true);
          continue;
        }
        if (lastStep) continue;
        const target = s * k + filled++;
        parents[target] = row;
        next[target] = token;
        newScores[target] = candScore[c]!;
        newLive[target] = [...this.live[row]!, token];
      }
      const list = this.finished[s]!;
      const bestLive = filled > 0 ? this.normalised(newScores[s * k]!, length) : -Infinity;
      const settled = list.length >= k && bestLive <= list[list.length - 1]!.score;
      if (lastStep || filled === 0 || settled) {
        if (list.length === 0) {
          // Nothing ended with EOS within maxTokens: keep the best truncated beams.
          for (let j = 0; j < k; j++) {
            const r = s * k + j;
            if (this.scores[r]! > -Infinity) this.addFinished(s, this.live[r]!, this.scores[r]!, this.live[r]!.length, false);
          }
        }
        this.stopped[s] = true;
        for (let j = 0; j < k; j++) {
          newScores[s * k + j] = -Infinity;
          parents[s * k + j] = s * k + j;
          next[s * k + j] = eos;
        }
      }
    }
    this.scores.set(newScores);
    this.live = newLive;
    this.steps++;
    return { parents, next };
  }

  /** The best hypothesis of each sentence (tokens without EOS). Call once `done`. */
  best(): number[][] {
    if (!this.done) throw new Error('BeamSearch.best: decoding is not finished');
    return this.finished.map((list) => [...(list[0]?.tokens ?? [])]);
  }

  /** Whether each sentence's best hypothesis ended with EOS (false: cut at maxTokens). */
  endedFlags(): boolean[] {
    if (!this.done) throw new Error('BeamSearch.endedFlags: decoding is not finished');
    return this.finished.map((list) => list[0]?.ended ?? false);
  }
}
