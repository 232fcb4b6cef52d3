import type { DatasetDocument } from '@sentencelab/data';
import { describe, expect, test } from 'vitest';
import { pickDocuments, validationBatches } from './dataset.js';

/** Documents `a00`..: the genre letter changes every 5, as Brown's ids do (press first). */
const docs: DatasetDocument[] = Array.from({ length: 20 }, (_, i) => {
  const n = i % 7 === 3 ? 1 : 3; // a few one-sentence documents
  return { id: `${'abcd'[Math.floor(i / 5)]}${String(i).padStart(2, '0')}`, sentences: Array.from({ length: n }, () => Int32Array.of(5, 6)), texts: Array(n).fill('x'), paragraphStarts: Array(n).fill(false) };
});

describe('evaluation sets span their split', () => {
  test('pickDocuments: n eligible documents evenly spaced in order, not the first n (one genre)', () => {
    const picked = pickDocuments(docs, 4, 2).map((d) => d.id);
    // Eligible: the 17 with 3 sentences; strides of 17/4 centred: indices 2, 6, 10, 14.
    expect(picked).toEqual(['a02', 'b07', 'c12', 'd16']);
    expect(new Set(picked.map((id) => id[0])).size).toBe(4);
    expect(pickDocuments(docs, 100, 2)).toHaveLength(17);
    expect(pickDocuments(docs, 100, 1)).toHaveLength(20);
  });

  test('validationBatches: count batches evenly spaced over all of them; none is an error naming the fix', () => {
    const batches = Array.from({ length: 10 }, (_, i) => i);
    expect(validationBatches(batches, 2, docs, 'svae')).toEqual([2, 7]);
    expect(validationBatches(batches, 20, docs, 'svae')).toEqual(batches);
    expect(() => validationBatches([], 4, docs, 'svae')).toThrow('stage svae: the validation split has no batch to evaluate on (20 documents); raise data.split.validation');
  });
});
