/**
 * Model selection on the validation documents: where a stage's sweep points carry the concept
 * heads' validation energy score (`val_energy_score`, a sampler or training sweep), the point
 * with the lowest one, beside the runner-up's, and the chosen point's test figures: the held-out
 * measurement of the choice. Choosing on the test figures instead would spend the test documents.
 */
import { estimateText, figureEstimate, pointName, type FigureEstimate, type ResultPoint, type StageResults } from './points.js';

const CHOOSE_ON = 'val_energy_score';
/** The chosen point's test figures printed beside the choice. */
const TEST_FIGURES: readonly { key: string; label: string }[] = [
  { key: 'energy_score', label: 'energy score' },
  { key: 'spread_ratio', label: 'spread / skill' },
  { key: 'energy_score_diff_train_dist', label: 'ES - train-dist' },
];

/** A line per stage with two or more points that have a validation energy score; [] when none has. */
export function validationChoiceLines(stages: readonly StageResults[]): string[] {
  return stages.flatMap((s) => {
    const scored = s.points.flatMap((p) => {
      const e = figureEstimate(p.runs, CHOOSE_ON);
      return e ? [{ p, e }] : [];
    });
    if (scored.length < 2) return [];
    const sorted = [...scored].sort((a, b) => a.e.mean - b.e.mean);
    const [best, next] = [sorted[0]!, sorted[1]!];
    const name = (p: ResultPoint) => pointName(p, s.points.length);
    const overlap = best.e.high !== undefined && next.e.low !== undefined && best.e.high >= next.e.low;
    const test = TEST_FIGURES.flatMap(({ key, label }) => {
      const e = figureEstimate(best.p.runs, key);
      return e ? [`${label} ${estimateText(e)}`] : [];
    });
    const seeds = best.e.n > 1 ? ` (mean over ${best.e.n} seeds)` : '';
    return [
      `- ${s.stage}: lowest ${CHOOSE_ON} of ${scored.length} points at ${name(best.p)}: ${estimateText(best.e)}${seeds}; the runner-up, ${name(next.p)}: ${estimateText(next.e)}${overlap ? ' (their 95% intervals overlap: taken point by point, these validation documents do not resolve the choice)' : ''}. ${test.length > 0 ? `Its test figures, the held-out measurement of the choice: ${test.join(', ')}.` : 'It has no test figures.'}`,
    ];
  });
}
