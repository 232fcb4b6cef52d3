import { describe, expect, test } from 'vitest';
import type { z } from 'zod';
import { dataConfig, dataConfigSchema } from './config.js';

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: Record<string, z.ZodType>; options?: z.ZodType[] };
const def = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const unwrap = (s: z.ZodType): z.ZodType => {
  const d = def(s);
  return d.type === 'default' || d.type === 'nullable' ? unwrap(d.innerType!) : d.type === 'pipe' ? unwrap(d.in!) : s;
};

describe('dataConfigSchema', () => {
  test('every field has a description and a default (the source discriminator aside)', () => {
    const problems: string[] = [];
    const walk = (s: z.ZodType, path: string): void => {
      const d = def(unwrap(s));
      if (d.type === 'object') {
        for (const [k, v] of Object.entries(d.shape!)) {
          if (!v.description) problems.push(`${path}.${k}: no description`);
          if (def(v).type !== 'default' && k !== 'type') problems.push(`${path}.${k}: no default`);
          walk(v, `${path}.${k}`);
        }
      }
      if (d.type === 'union') d.options!.forEach((o, i) => walk(o, `${path}[${i}]`));
    };
    walk(dataConfigSchema, 'data');
    expect(problems).toEqual([]);
  });

  test('an empty config is the Brown recipe with defaults', () => {
    expect(dataConfig()).toEqual({
      source: { type: 'brown', categories: [], limit: null },
      tokenizer: { path: null, vocabSize: 4096, specials: { pad: '<pad>', bos: '<bos>', eos: '<eos>', unk: '<unk>' } },
      segment: { mode: 'sentence', maxTokens: 64, tokens: null, locale: null },
      split: { validation: 0.05, test: 0.05, salt: '' },
      output: { cacheDir: '.cache/datasets', batchDocuments: 64 },
    });
    expect(dataConfig({ source: { type: 'jsonl' } }).source).toEqual({ type: 'jsonl', paths: ['datasets/tiny.jsonl'], textField: 'text', idField: null });
  });

  test('unknown keys and bad values fail with their key path', () => {
    const issues = (input: unknown) => dataConfigSchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.code}`);
    expect(issues({ tokenizer: { vocabsize: 10 } })).toEqual(['tokenizer: unrecognized_keys']);
    expect(issues({ source: { type: 'csv' } })).toEqual(['source.type: invalid_union']);
    expect(issues({ source: { type: 'text', paths: [] } })).toEqual(['source.paths: too_small']);
    expect(issues({ split: { validation: 0.6, test: 0.5 } })).toEqual(['split: custom']);
    expect(issues({ segment: { maxTokens: 0 } })).toEqual(['segment.maxTokens: too_small']);
  });
});
