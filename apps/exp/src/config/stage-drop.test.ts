import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { planPipeline } from '../pipeline/plan.js';
import { STAGES, stageRegistry } from '../stages/registry.js';
import { loadPipeline } from './pipeline.js';

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'cfg-drop-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

const base = `name: t
stages:
  tok: {kind: tokenizer}
  svae:
    kind: svae
    inputs: {tokenizer: tok}
    model: {dModel: 32, encoder: {layers: 1, heads: 2}, decoder: {layers: 1, heads: 2}}
    train: {steps: 40, batchSize: 2, warmupSteps: 4}
  sllm: {kind: sllm, inputs: {tokenizer: tok, svae: svae}, model: {decoder: {dModel: 32, layers: 1, heads: 2}}, train: {steps: 10, warmupSteps: 2}}
  sllm2: {like: sllm, train: {steps: 20}}
`;

describe('a stage set to null is left out', () => {
  test('in an extending file and by an override; what still names a dropped stage is an error naming it', () => {
    const d = dir({ 'base.yaml': base, 'less.yaml': 'extends: base.yaml\nstages:\n  sllm2: null\n' });
    const names = (file: string, overrides: string[] = []) => Object.keys(loadPipeline(join(d, file), STAGES, overrides).config.stages);
    expect(names('base.yaml')).toEqual(['tok', 'svae', 'sllm', 'sllm2']);
    expect(names('less.yaml')).toEqual(['tok', 'svae', 'sllm']);
    expect(names('base.yaml', ['stages.sllm2=null'])).toEqual(['tok', 'svae', 'sllm']);
    // Its template dropped, a variant has nothing to be like.
    expect(() => loadPipeline(join(d, 'base.yaml'), STAGES, ['stages.sllm=null'])).toThrow(/stages\.sllm2\.like: no stage named "sllm" \(stages: tok, svae, sllm2\)/);
    // An input naming a dropped stage: the plan names it.
    const { config } = loadPipeline(join(d, 'less.yaml'), STAGES, ['stages.svae=null']);
    expect(() => planPipeline(config, stageRegistry())).toThrow(/stages\.sllm\.inputs\.svae: unknown stage "svae" \(stages: tok, sllm\)/);
  });
});
