import { afterAll, describe, expect, test } from 'vitest';
import { dataConfig } from '../config.js';
import { openDataset } from '../dataset.js';
import { SPLITS } from '../document.js';
import { prepareDataset } from '../prepare.js';
import { splitOf } from '../split.js';
import { ROOT, removeTempDirs, tempDir } from '../test-support/fixtures.js';
import { sotuCatalog, sotuSource } from './sotu.js';
import type { CorpusSource, SourceDocument } from './types.js';

afterAll(removeTempDirs);

async function all(source: CorpusSource): Promise<SourceDocument[]> {
  const out: SourceDocument[] = [];
  for await (const d of source.documents()) out.push(d);
  return out;
}

const none = { presidents: [], parties: [], from: null, to: null, limit: null };

describe('sotu', () => {
  test('the catalog: 233 addresses, 1790-2021, in chronological file order, unique ids', () => {
    const catalog = sotuCatalog();
    expect(catalog).toHaveLength(233);
    expect(catalog[0]).toMatchObject({ id: '1790_george_washington_n', year: 1790, name: 'George Washington', party: 'none' });
    expect(catalog[232]).toMatchObject({ id: '2021_joseph_r_biden_d', year: 2021, name: 'Joseph R Biden', party: 'Democratic' });
    expect(new Set(catalog.map((a) => a.id)).size).toBe(233);
    const years = catalog.map((a) => a.year);
    expect(years).toEqual([...years].sort((a, b) => a - b));
  });

  test('one document per address, id = file name, the whole text', async () => {
    const docs = await all(sotuSource({ type: 'sotu', ...none, limit: 2 }));
    expect(docs.map((d) => d.id)).toEqual(['1790_george_washington_n', '1791_george_washington_n']);
    expect(docs[0]!.text.startsWith('Fellow-Citizens of the Senate and House of Representatives:')).toBe(true);
    expect(docs[0]!.text.split(/\s+/).length).toBeGreaterThan(1000);
    expect(docs[1]!.origin.endsWith('1791_george_washington_n.json')).toBe(true);
  });

  test('filters: presidents, parties, years (inclusive), then limit', async () => {
    const lincoln = await all(sotuSource({ type: 'sotu', ...none, presidents: ['Abraham Lincoln'] }));
    expect(lincoln.map((d) => d.id)).toEqual(['1861_abraham_lincoln_r', '1862_abraham_lincoln_r', '1863_abraham_lincoln_r', '1864_abraham_lincoln_r']);
    const source = sotuSource({ type: 'sotu', ...none, parties: ['Whig'], from: 1841, to: 1850 });
    expect(source.description).toMatch(/^sotu \(\d+ address(es)?, 18\d\d-18\d\d\)$/);
    const whigs = sotuCatalog().filter((a) => a.party === 'Whig' && a.year >= 1841 && a.year <= 1850);
    expect(source.files).toEqual(whigs.map((a) => a.file));
    expect(sotuSource({ type: 'sotu', ...none, from: 2000, limit: 3 }).files.map((f) => f.slice(-30))).toEqual(
      sotuCatalog().filter((a) => a.year >= 2000).slice(0, 3).map((a) => a.file.slice(-30)),
    );
  });

  test('an unknown president or party, or filters that leave nothing, fail naming the key', () => {
    expect(() => sotuSource({ type: 'sotu', ...none, presidents: ['Abe Lincoln'] })).toThrow(/source\.presidents: unknown "Abe Lincoln" \(known: George Washington, /);
    expect(() => sotuSource({ type: 'sotu', ...none, parties: ['Tory'] })).toThrow(/source\.parties: unknown "Tory"/);
    expect(() => sotuSource({ type: 'sotu', ...none, from: 2030 })).toThrow(/no address matches the filters/);
  });

  test('prepare: a few addresses, split by document, cached by content', async () => {
    const cache = tempDir();
    const config = dataConfig({
      source: { type: 'sotu', limit: 4 },
      tokenizer: { vocabSize: 600 },
      segment: { maxTokens: 48 },
      split: { validation: 0.25, test: 0.25 },
      output: { cacheDir: cache },
    });
    const first = await prepareDataset(config, { baseDir: ROOT });
    expect(first.cached).toBe(false);
    expect(first.stats.source).toBe('sotu (4 addresses, 1790-1793)');
    expect(first.stats.documents).toBe(4);
    expect(first.stats.sentencesOverMaxTokens).toBe(0);
    const ds = await openDataset(first.dir);
    const ids: string[] = [];
    for (const s of SPLITS) {
      for (const d of await ds.split(s).loadAll()) {
        expect(splitOf(d.id, config.split)).toBe(s);
        ids.push(d.id);
        // One paragraph per address (the package keeps no paragraph breaks).
        expect(d.paragraphStarts.filter(Boolean)).toHaveLength(1);
        expect(d.sentences.length).toBeGreaterThan(20);
      }
    }
    expect(ids.sort()).toEqual(['1790_george_washington_n', '1791_george_washington_n', '1792_george_washington_n', '1793_george_washington_n']);
    const again = await prepareDataset(config, { baseDir: ROOT });
    expect(again).toMatchObject({ cached: true, dir: first.dir });
  });
});
