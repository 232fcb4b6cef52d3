/**
 * Evaluation of next-concept predictions (LCM paper, section 2.4 style), on plain vectors so the
 * metrics package and the runner can use them with any model or codec. Sums run in float64.
 */
import type { ConceptCodec } from './codec.js';
import type { EmbeddingNormalizer } from './normalizer.js';

function checkPair(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: vectors of ${a.length} and ${b.length} dims`);
}

export function l2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkPair(a, b, 'l2');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkPair(a, b, 'cosine');
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

function checkLists(p: readonly unknown[], t: readonly unknown[], what: string): void {
  if (p.length !== t.length) throw new Error(`${what}: ${p.length} predictions but ${t.length} targets`);
  if (p.length === 0) throw new Error(`${what}: no predictions`);
}

export interface L2Result {
  /** Mean Euclidean distance in the codec's space. */
  raw: number;
  /** The same in the normaliser's space (what the models are trained on); null without one. */
  normalized: number | null;
}

/** Mean L2 distance between each predicted and true next embedding (both raw). */
export function nextEmbeddingL2(predictions: Float32Array[], targets: Float32Array[], normalizer?: EmbeddingNormalizer): L2Result {
  checkLists(predictions, targets, 'nextEmbeddingL2');
  let raw = 0;
  let normalized = 0;
  predictions.forEach((p, i) => {
    const t = targets[i]!;
    raw += l2(p, t);
    if (normalizer) normalized += l2(normalizer.normalizeVector(p), normalizer.normalizeVector(t));
  });
  const n = predictions.length;
  return { raw: raw / n, normalized: normalizer ? normalized / n : null };
}

/**
 * Contrastive accuracy: for each prediction, the share of in-batch distractors (the other
 * targets) that lie farther from it than its own target (ties count half). 0.5 = chance,
 * 1 = every true next sentence is the nearest.
 */
export function contrastiveAccuracy(predictions: Float32Array[], targets: Float32Array[]): number {
  const scores = contrastiveScores(predictions, targets);
  return scores.reduce((a, b) => a + b, 0) / scores.length;
}

/** Each prediction's contrastive score (the mean of which is {@link contrastiveAccuracy}): distractors are all the other targets. */
export function contrastiveScores(predictions: Float32Array[], targets: Float32Array[]): number[] {
  checkLists(predictions, targets, 'contrastiveAccuracy');
  const n = predictions.length;
  if (n < 2) throw new Error('contrastiveAccuracy needs at least 2 predictions (one distractor)');
  return predictions.map((p, i) => {
    const own = l2(p, targets[i]!);
    let wins = 0;
    targets.forEach((t, j) => {
      if (j === i) return;
      const d = l2(p, t);
      wins += d > own ? 1 : d === own ? 0.5 : 0;
    });
    return wins / (n - 1);
  });
}

/** Per-prediction L2 distances and contrastive scores of one predictor. */
export interface PredictionScores {
  l2: number[];
  contrastive: number[];
}

/**
 * A head's next-concept predictions beside two baselines on the same targets: `copyPrev`
 * predicts the previous sentence's embedding, `trainMean` always predicts `mean` (the training
 * embeddings' mean). Per prediction, so callers can group them by document.
 */
export function scoresWithBaselines(predictions: Float32Array[], targets: Float32Array[], previous: Float32Array[], mean: Float32Array): { head: PredictionScores; copyPrev: PredictionScores; trainMean: PredictionScores } {
  checkLists(previous, targets, 'scoresWithBaselines');
  const score = (p: Float32Array[]): PredictionScores => ({ l2: p.map((v, i) => l2(v, targets[i]!)), contrastive: contrastiveScores(p, targets) });
  return { head: score(predictions), copyPrev: score(previous), trainMean: score(targets.map(() => mean)) };
}

/**
 * The energy score of two predictions x1, x2 for the same target y (drawn with different seeds):
 * (L2(x1, y) + L2(x2, y)) / 2 - L2(x1, x2) / 2, per target; lower is better. It estimates
 * E||X - y|| - E||X - X'|| / 2 without bias, a strictly proper score (Gneiting & Raftery 2007):
 * a head that samples from the right distribution scores best, while its L2 counts its spread
 * against it (a calibrated sampler's expected L2 exceeds the conditional mean's). A
 * deterministic head (x1 = x2) scores its L2, as does any constant baseline. In float64 on plain
 * vectors, as the other helpers here; the training loss `energyScoreLoss` with two samples is
 * twice its mean (tested).
 */
export function energyScores(first: Float32Array[], second: Float32Array[], targets: Float32Array[]): number[] {
  const { spread, skill } = drawSpreads(first, second, targets, 'energyScores');
  return skill.map((s, i) => s - spread[i]! / 2);
}

/**
 * The energy score's two terms per target: `skill`, the draws' mean distance to the target
 * (L2(x1, y) + L2(x2, y)) / 2, and `spread`, their distance to each other L2(x1, x2). For a head
 * whose draws come from the target's true distribution, x1, x2 and y are three independent draws
 * of it, so E[spread] = E[skill]: summed over targets, spread / skill is 1 for a calibrated
 * sampler, below 1 for draws too alike (0: a deterministic head), above 1 for draws too scattered
 * (the spread-skill ratio of ensemble forecasts, in L2).
 */
export function drawSpreads(first: Float32Array[], second: Float32Array[], targets: Float32Array[], what = 'drawSpreads'): { spread: number[]; skill: number[] } {
  checkLists(first, targets, what);
  checkLists(second, targets, what);
  return { spread: targets.map((_, i) => l2(first[i]!, second[i]!)), skill: targets.map((y, i) => (l2(first[i]!, y) + l2(second[i]!, y)) / 2) };
}

/** Decode each vector to text, re-encode it, and measure how far it moved (mean L2). */
export async function roundTripL2(vectors: Float32Array[], codec: ConceptCodec, normalizer?: EmbeddingNormalizer): Promise<L2Result> {
  if (vectors.length === 0) throw new Error('roundTripL2: no vectors');
  const texts = await codec.decode(vectors);
  const again = await codec.encode(texts);
  return nextEmbeddingL2(again, vectors, normalizer);
}

const canonical = (s: string): string => s.trim().toLowerCase().replace(/\s+/g, ' ');

/**
 * Share of generated sentences that repeat (case- and whitespace-insensitively) an earlier
 * sentence: one of the context's or an earlier generated one.
 */
export function repetitionRate(generated: string[], context: string[] = []): number {
  if (generated.length === 0) return 0;
  const seen = new Set(context.map(canonical));
  let repeats = 0;
  for (const s of generated) {
    const c = canonical(s);
    if (seen.has(c)) repeats++;
    seen.add(c);
  }
  return repeats / generated.length;
}

/**
 * Mean cosine between each vector and the one before it (pass the last context vector first).
 * Near 1 means the model paraphrases its context instead of moving on.
 */
export function cosineToPrevious(vectors: Float32Array[]): number {
  if (vectors.length < 2) throw new Error('cosineToPrevious needs at least 2 vectors');
  let s = 0;
  for (let i = 1; i < vectors.length; i++) s += cosine(vectors[i]!, vectors[i - 1]!);
  return s / (vectors.length - 1);
}
