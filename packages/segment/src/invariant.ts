import { isSpaceCode } from './chars.js';
import type { Segment } from './types.js';

/**
 * Rebuilds the input from its segments and the whitespace between them (taken from `text`).
 * Equals `text` for any output of `segment(text)`; throws if the segments break the contract.
 */
export function joinSegments(text: string, segments: readonly Segment[]): string {
  const problems = segmentProblems(text, segments);
  if (problems.length > 0) throw new Error(`joinSegments: ${problems[0]}`);
  const parts: string[] = [];
  let at = 0;
  for (const s of segments) {
    parts.push(text.slice(at, s.start), s.text);
    at = s.end;
  }
  parts.push(text.slice(at));
  return parts.join('');
}

/**
 * Checks the segmentation contract and returns what is wrong (empty when all holds):
 * `text === input.slice(start, end)`, segments non-empty and trimmed, in order, not
 * overlapping, with only whitespace between them and around them.
 */
export function segmentProblems(text: string, segments: readonly Segment[]): string[] {
  const problems: string[] = [];
  let at = 0;
  segments.forEach((s, k) => {
    const where = `segment ${k} [${s.start}, ${s.end})`;
    if (!(Number.isInteger(s.start) && Number.isInteger(s.end) && at <= s.start && s.start < s.end && s.end <= text.length)) {
      problems.push(`${where}: offsets out of order or out of range (previous end ${at}, text length ${text.length})`);
      return;
    }
    if (text.slice(s.start, s.end) !== s.text) problems.push(`${where}: text differs from input.slice(start, end)`);
    if (isSpaceCode(s.text.charCodeAt(0)) || isSpaceCode(s.text.charCodeAt(s.text.length - 1))) {
      problems.push(`${where}: not trimmed`);
    }
    if (!onlySpace(text, at, s.start)) problems.push(`${where}: non-whitespace text before it is in no segment`);
    at = s.end;
  });
  if (!onlySpace(text, at, text.length)) problems.push(`non-whitespace text after offset ${at} is in no segment`);
  return problems;
}

function onlySpace(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpaceCode(text.charCodeAt(i))) return false;
  return true;
}
