import { createHash } from 'node:crypto';
import type { SplitConfig } from './config.js';
import type { SplitName } from './document.js';

/** A number in [0, 1) fixed by `salt` and `docId` (sha256, first 48 bits). */
export function docHash(docId: string, salt = ''): number {
  const h = createHash('sha256').update(salt).update('\u0000').update(docId).digest();
  return h.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * The split a document belongs to, from a hash of its id alone: the same id always lands in the
 * same split, and adding or removing other documents never moves it.
 */
export function splitOf(docId: string, split: Pick<SplitConfig, 'validation' | 'test' | 'salt'>): SplitName {
  const u = docHash(docId, split.salt);
  if (u < split.validation) return 'validation';
  if (u < split.validation + split.test) return 'test';
  return 'train';
}
