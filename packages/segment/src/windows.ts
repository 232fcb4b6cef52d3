import { lineBreaks } from './rules.js';
import { segment } from './segment.js';
import type { Segment, SegmentOptions } from './types.js';

/** Characters segmented at once by {@link segmentInWindows} (about 1 MB of text). */
export const SEGMENT_WINDOW = 1 << 20;

/**
 * The segments of `text`, the same as `segment(text, options)`, found `window` characters at a
 * time so that the work in memory is bounded by the window, not by the text (one 50 MB line).
 *
 * Each window is segmented on its own; the segments that end in its last quarter are dropped
 * (the window's end may have cut them, and a boundary looks a few words ahead), and the next
 * window starts where the first dropped one starts, moved back to the start of its sentence
 * when the window holds that start: a place where the whole text starts a sentence too. Its
 * first segment gets the flags it has in the whole text: `paragraphStart` from the blank lines
 * before it, and `split` when it continues a sentence that was being split for length. The
 * quarter must hold more than a segment's lookahead (some 48 characters) and more than one
 * length-split piece; a window whose first three quarters end no segment is doubled.
 *
 * Only a sentence longer than about three quarters of the window is resumed mid-sentence, at a
 * piece start; there a `lengthOf` that can shrink as text grows (a BPE token count can) may
 * cut its later pieces elsewhere than `segment` would. No text is dropped or repeated either way.
 */
export function* segmentInWindows(text: string, options: SegmentOptions = {}, window = SEGMENT_WINDOW): Generator<Segment> {
  if (!(Number.isInteger(window) && window >= 64)) throw new RangeError(`segmentInWindows: window must be an integer >= 64, got ${String(window)}`);
  let pos = 0;
  let size = window;
  let previousEnd = -1;
  let continuesSplit = false;
  while (pos < text.length) {
    const end = Math.min(text.length, pos + size);
    const last = end === text.length;
    const part = text.slice(pos, end);
    const segs = segment(part, options);
    const limit = end - pos - (size >> 2);
    let keep = segs.length;
    if (!last) {
      keep = 0;
      while (keep < segs.length && segs[keep]!.end <= limit) keep++;
      if (keep === 0 || keep === segs.length) {
        // No segment ends early enough to trust, or the rest is whitespace: look further.
        size *= 2;
        continue;
      }
      if (segs[keep]!.split) {
        // Restart at the start of that piece's sentence if the window holds it: pieces of a
        // split sentence depend on where its splitting began.
        const { maxTokens: _, ...unsplit } = options;
        const at = segs[keep]!.start;
        let sentenceStart = 0;
        for (const s of segment(part, unsplit)) {
          if (s.start > at) break;
          sentenceStart = s.start;
        }
        let k = keep;
        while (k > 0 && segs[k - 1]!.start >= sentenceStart) k--;
        if (k > 0) keep = k;
      }
    }
    for (let k = 0; k < keep; k++) {
      const s = segs[k]!;
      const start = s.start + pos;
      const first = k === 0;
      yield {
        text: s.text,
        start,
        end: s.end + pos,
        paragraphStart: first ? previousEnd < 0 || lineBreaks(text, previousEnd, start) >= 2 : s.paragraphStart,
        split: s.split || (first && continuesSplit),
      };
    }
    if (last) return;
    previousEnd = segs[keep - 1]!.end + pos;
    continuesSplit = segs[keep]!.split;
    pos += segs[keep]!.start;
    size = window;
  }
}
