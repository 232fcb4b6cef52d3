/** Text handed to Intl.Segmenter at once: its iterator slows down quadratically with length. */
const WINDOW = 8192;
/** Boundaries this close to a window's end may depend on text past it: found again next time. */
const MARGIN = 1024;

const segmenters = new Map<string, Intl.Segmenter>();

function segmenterFor(locale: string | undefined): Intl.Segmenter {
  const key = locale ?? '';
  let s = segmenters.get(key);
  if (s === undefined) {
    s = new Intl.Segmenter(locale, { granularity: 'sentence' });
    segmenters.set(key, s);
  }
  return s;
}

/**
 * Sentence boundaries from `Intl.Segmenter`, pushed to `out` in order (strictly inside the
 * text), read in windows of {@link WINDOW} code units. `…` is read as `.` (same length), as
 * the fast scanner does, so "Wait… What?" splits like "Wait... What?".
 */
export function intlBoundaries(text: string, locale: string | undefined, out: number[]): void {
  const segmenter = segmenterFor(locale);
  const end = text.length;
  let p = 0;
  while (p < end) {
    const last = p + WINDOW >= end;
    const windowEnd = last ? end : p + WINDOW;
    const limit = last ? end : windowEnd - MARGIN;
    let next = -1;
    for (const { index } of segmenter.segment(text.slice(p, windowEnd).replaceAll('\u2026', '.'))) {
      const b = p + index;
      if (b <= p) continue;
      if (b >= limit) break;
      out.push(b);
      next = b;
    }
    if (last) return;
    // Resume at the last boundary found (a real one), or past a window that had none.
    p = next > p ? next : limit;
  }
}
