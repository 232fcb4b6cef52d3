import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, test, vi } from 'vitest';
import { ConfigError } from '../config/errors.js';
import { dataCommand, loadDataConfig } from './data.js';

const ROOT = resolve(fileURLToPath(new URL('../../../..', import.meta.url)));

const created: string[] = [];
function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'exp-data-'));
  created.push(d);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

afterEach(() => vi.restoreAllMocks());
afterAll(() => {
  for (const d of created) rmSync(d, { recursive: true, force: true });
});

describe('exp data prepare', () => {
  test('prepares a config, prints the stats, the folder and the elapsed time; a re-run is a cache hit', async () => {
    const cache = dir({});
    const d = dir({
      'data.yaml': `source: {type: jsonl, paths: [${JSON.stringify(join(ROOT, 'datasets/tiny.jsonl'))}], idField: id}\ntokenizer: {vocabSize: 300}\n`,
    });
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    await dataCommand().parseAsync(['prepare', join(d, 'data.yaml'), `output.cacheDir=${cache}`, '--quiet'], { from: 'user' });
    const text = out.join('\n');
    expect(text).toMatch(/total\s+5\s+\d+\s+\d+/);
    expect(text).toContain('tokenizer: trained');
    expect(text).toMatch(new RegExp(`dataset: ${cache}/[0-9a-f]{24}\\n`));
    expect(text).toMatch(/elapsed: \d+\.\d s/);
    out.length = 0;
    await dataCommand().parseAsync(['prepare', join(d, 'data.yaml'), `output.cacheDir=${cache}`, '--quiet'], { from: 'user' });
    expect(out.join('\n')).toMatch(/\(from cache\)/);
  });

  test('the committed example configs validate; a `data:` section works too', () => {
    for (const f of ['brown.yaml', 'sotu.yaml', 'text-samples.yaml', 'jsonl-tiny.yaml']) {
      expect(loadDataConfig(join(ROOT, 'configs/data', f), []).source.type).toBe(f.replace(/\.yaml$/, '').split('-')[0]);
    }
    const d = dir({ 'p.yaml': 'name: x\ndata:\n  tokenizer: {vocabSize: 512}\n' });
    expect(loadDataConfig(join(d, 'p.yaml'), ['data.segment.maxTokens=16'])).toMatchObject({ tokenizer: { vocabSize: 512 }, segment: { maxTokens: 16 } });
  });

  test('bad configs fail naming file and key path', () => {
    const d = dir({ 'bad.yaml': 'source: {type: text, pathz: [a]}\n', 'worse.yaml': 'segment: {mode: word}\n' });
    expect(() => loadDataConfig(join(d, 'bad.yaml'), [])).toThrow(ConfigError);
    expect(() => loadDataConfig(join(d, 'bad.yaml'), [])).toThrow(`${join(d, 'bad.yaml')}: source: unknown key "pathz"`);
    expect(() => loadDataConfig(join(d, 'worse.yaml'), [])).toThrow(/worse\.yaml: segment\.mode: /);
    expect(() => loadDataConfig(join(d, 'worse.yaml'), ['segment.mode=clause', 'tokenizer.vocabSize=10'])).toThrow(/tokenizer\.vocabSize: /);
  });
});
