import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { applyOverrides, loadComposed, loadConfig, parseOverride, readYaml } from './load.js';

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'cfg-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

const schema = z.strictObject({
  seed: z.number().int().default(0),
  model: z.strictObject({ dModel: z.number().int().positive(), layers: z.number().int().default(2) }),
  name: z.string().default('x'),
});

describe('loadConfig', () => {
  test('extends merges left to right, then the file itself', () => {
    const d = dir({
      'a.yaml': 'seed: 1\nmodel: {dModel: 32, layers: 1}\nname: a\n',
      'b.yaml': 'seed: 2\nmodel: {layers: 3}\n',
      'c.yaml': 'extends: [a.yaml, b.yaml]\nname: c\n',
    });
    const { config, files } = loadConfig(join(d, 'c.yaml'), schema);
    expect(config).toEqual({ seed: 2, model: { dModel: 32, layers: 3 }, name: 'c' });
    expect(files.map((f) => f.slice(d.length + 1))).toEqual(['a.yaml', 'b.yaml', 'c.yaml']);
  });

  test('extends: an object whose type changes replaces the parent object, one of the same type merges', () => {
    const d = dir({
      'a.yaml': 'model: {dModel: 32}\nsource: {type: brown, categories: [news], limit: 100}\nsame: {type: brown, limit: 5}\n',
      'b.yaml': 'extends: a.yaml\nsource: {type: text, paths: [a.txt]}\nsame: {type: brown, categories: [x]}\n',
    });
    const { value } = loadComposed(join(d, 'b.yaml'));
    expect(value['source']).toEqual({ type: 'text', paths: ['a.txt'] });
    expect(value['same']).toEqual({ type: 'brown', limit: 5, categories: ['x'] });
  });

  test('overrides are typed YAML scalars and win over the files', () => {
    const d = dir({ 'a.yaml': 'model: {dModel: 32}\n' });
    const { config } = loadConfig(join(d, 'a.yaml'), schema, ['model.layers=6', 'name=run 1', 'seed=7']);
    expect(config).toEqual({ seed: 7, model: { dModel: 32, layers: 6 }, name: 'run 1' });
  });

  test('unknown keys fail naming file, key path and reason', () => {
    const d = dir({ 'a.yaml': 'model: {dModel: 32, dmodel: 4}\n' });
    const err = (() => {
      try {
        loadConfig(join(d, 'a.yaml'), schema);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(`${join(d, 'a.yaml')}: model: unknown key "dmodel"`);
  });

  test('bad values fail naming the key path', () => {
    const d = dir({ 'a.yaml': 'model: {dModel: -3}\n' });
    expect(() => loadConfig(join(d, 'a.yaml'), schema)).toThrow(/a\.yaml: model\.dModel: .*>0/);
  });

  test('missing file, cycles and YAML syntax errors are ConfigErrors', () => {
    const d = dir({ 'x.yaml': 'extends: y.yaml\n', 'y.yaml': 'extends: x.yaml\n', 'bad.yaml': 'a: [1, 2\n' });
    expect(() => loadConfig(join(d, 'nope.yaml'), schema)).toThrow(/nope\.yaml: file not found/);
    expect(() => loadConfig(join(d, 'x.yaml'), schema)).toThrow(/extends: cycle/);
    expect(() => loadConfig(join(d, 'bad.yaml'), schema)).toThrow(ConfigError);
  });
});

describe('errors name the file the value came from', () => {
  test('a bad value or unknown key set in an extends parent names the parent, not the child', () => {
    const d = dir({
      'base.yaml': 'model: {dModel: -3, layerz: 2}\n',
      'child.yaml': 'extends: base.yaml\nname: c\n',
      'fixed.yaml': 'extends: base.yaml\nmodel: {dModel: -4}\n',
    });
    const message = (f: string, ov: string[] = []) => {
      try {
        loadConfig(join(d, f), schema, ov);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(message('child.yaml').split('\n').sort()).toEqual([`${join(d, 'base.yaml')}: model.dModel: Too small: expected number to be >0`, `${join(d, 'base.yaml')}: model: unknown key "layerz"`].sort());
    expect(message('fixed.yaml')).toContain(`${join(d, 'fixed.yaml')}: model.dModel: Too small`);
    expect(message('child.yaml', ['model.dModel=-5'])).toContain('override "model.dModel=-5": model.dModel: Too small');
  });
});

describe('YAML safety', () => {
  test('an alias bomb fails naming the file', () => {
    const levels = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const d = dir({ 'bomb.yaml': `${levels.join('\n')}\n` });
    expect(() => readYaml(join(d, 'bomb.yaml'))).toThrow(ConfigError);
    expect(() => readYaml(join(d, 'bomb.yaml'))).toThrow(new RegExp(`^${join(d, 'bomb.yaml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: Excessive alias count`));
  });

  test('tags are never executed: a custom tag is an error', () => {
    const d = dir({ 'a.yaml': 'x: !!js/function "function () { return 1 }"\n' });
    expect(() => readYaml(join(d, 'a.yaml'))).toThrow(ConfigError);
  });
});

describe('overrides', () => {
  test('parseOverride reads numbers, booleans, lists and strings', () => {
    expect(parseOverride('a.b=1e-3').value).toBe(0.001);
    expect(parseOverride('a=true').value).toBe(true);
    expect(parseOverride('a=[1, 2]').value).toEqual([1, 2]);
    expect(parseOverride('a=hello').value).toBe('hello');
  });

  test('malformed overrides are rejected', () => {
    expect(() => parseOverride('novalue')).toThrow(/key\.path=value/);
    expect(() => parseOverride('=3')).toThrow(ConfigError);
    expect(() => applyOverrides({ a: 1 }, ['a.b=2'])).toThrow(/a is not an object/);
  });
});
