export { segment } from './segment.js';
export { SEGMENT_WINDOW, segmentInWindows } from './windows.js';
export type { Segment, SegmentOptions } from './types.js';
export { joinSegments, segmentProblems } from './invariant.js';
export { estimateTokens } from './length.js';
export {
  DEFAULT_ABBREVIATIONS,
  SENTENCE_STARTERS,
  type AbbreviationKind,
} from './abbreviations.js';
