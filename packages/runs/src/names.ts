import { randomBytes } from 'node:crypto';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._=,+@-]*$/;

/**
 * Experiment names and run ids become folder names: letters, digits and `._=,+@-`, not
 * starting with a dot (so `..` and hidden names are impossible), at most 200 characters.
 */
export function assertPathSegment(kind: string, value: string): void {
  if (value.length === 0 || value.length > 200 || !SEGMENT.test(value)) {
    throw new Error(
      `${kind} "${value}" is not a valid folder name: use 1-200 letters, digits or ._=,+@- and do not start with a dot`,
    );
  }
}

/** `20261126-071502-3fa9`: sortable by start time, unique enough for parallel sweeps. */
export function defaultRunId(now: Date = new Date()): string {
  const iso = now.toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}
