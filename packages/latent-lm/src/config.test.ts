import { describe, expect, test } from 'vitest';
import { sllmConfigSchema, tokenLmConfigSchema } from './config.js';
import { SLLM } from './sllm.js';
import { TokenLM } from './token-lm.js';

describe('configs', () => {
  test('every field has a default', () => {
    const t = tokenLmConfigSchema.parse({});
    expect(t.decoder.layers).toBe(2);
    expect(t.tieOutput).toBe(true);
    const s = sllmConfigSchema.parse({});
    expect(s.decoder.maxLen).toBe(64);
    expect(s.svae.dModel).toBe(256);
  });

  test('unknown keys and inconsistent values are rejected with their key path', () => {
    const bad = tokenLmConfigSchema.safeParse({ decoder: { dModel: 30, heads: 4 } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['decoder', 'heads']);
    const unknown = sllmConfigSchema.safeParse({ decoder: { dmodel: 3 } });
    expect(unknown.success).toBe(false);
    expect(unknown.error!.issues[0]!.code).toBe('unrecognized_keys');
  });

  test('the constructors fail with every bad key path in one line, as the concept heads do', () => {
    expect(() => new TokenLM({ decoder: { dModel: 30, heads: 4, layerz: 1 } as never })).toThrow(/^invalid token LM config: decoder: Unrecognized key: "layerz"; decoder\.heads: /);
    expect(() => new SLLM({ decoder: { maxLen: 0 } })).toThrow(/^invalid SLLM config: decoder\.maxLen: /);
  });
});
