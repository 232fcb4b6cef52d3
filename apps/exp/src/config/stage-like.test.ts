import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { planPipeline } from '../pipeline/plan.js';
import { STAGES, stageRegistry } from '../stages/registry.js';
import { loadPipeline } from './pipeline.js';

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'cfg-like-'));
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
`;

describe('like: a stage that is a variant of another', () => {
  test('is the template\'s section with its own keys merged on top, chains resolve, and the template\'s overrides carry over', () => {
    const d = dir({
      'base.yaml': base,
      'noise.yaml': `extends: base.yaml
stages:
  svae-noise: {like: svae, model: {latentNoise: 0.5}}
  sllm-noise: {like: sllm, inputs: {svae: svae-noise}}
  sllm-noise-long: {like: sllm-noise, train: {steps: 20}}
`,
    });
    const { config } = loadPipeline(join(d, 'noise.yaml'), STAGES, ['stages.svae.model.dModel=64']);
    const s = config.stages as Record<string, Record<string, unknown>>;
    const svae = s['svae'] as { model: { dModel: number; latentNoise: number; encoder: { layers: number } }; train: { steps: number } };
    const noisy = s['svae-noise'] as typeof svae;
    expect(noisy.model.dModel).toBe(64); // the override on the template
    expect(noisy.model.latentNoise).toBe(0.5);
    expect(noisy.model.encoder.layers).toBe(1);
    expect(noisy.train.steps).toBe(40);
    expect(s['svae-noise']!['kind']).toBe('svae');
    expect(s['sllm-noise']!['inputs']).toEqual({ tokenizer: 'tok', svae: 'svae-noise' });
    expect(s['sllm-noise-long']!['inputs']).toEqual({ tokenizer: 'tok', svae: 'svae-noise' });
    expect((s['sllm-noise-long']!['train'] as { steps: number }).steps).toBe(20);
    expect((s['sllm-noise']!['train'] as { steps: number }).steps).toBe(10);
    // The resolved config holds no like: the run folder's config.yaml runs as it is.
    for (const section of Object.values(s)) expect(section).not.toHaveProperty('like');
    // Written out in full, the same config.
    const full = dir({
      'full.yaml': `${base}  svae-noise:
    kind: svae
    inputs: {tokenizer: tok}
    model: {dModel: 32, latentNoise: 0.5, encoder: {layers: 1, heads: 2}, decoder: {layers: 1, heads: 2}}
    train: {steps: 40, batchSize: 2, warmupSteps: 4}
`,
    });
    const written = loadPipeline(join(full, 'full.yaml'), STAGES).config.stages as Record<string, unknown>;
    expect(loadPipeline(join(d, 'noise.yaml'), STAGES).config.stages['svae-noise']).toEqual(written['svae-noise']);
  });

  test('a missing stage, a cycle or a non-name is an error naming the key and its file; a bad inherited value names the template\'s file', () => {
    const d = dir({
      'base.yaml': base,
      'missing.yaml': 'extends: base.yaml\nstages:\n  v: {like: svea}\n',
      'cycle.yaml': 'extends: base.yaml\nstages:\n  a: {like: b}\n  b: {like: a}\n',
      'number.yaml': 'extends: base.yaml\nstages:\n  v: {like: 3}\n',
      'bad-parent.yaml': base.replace('warmupSteps: 4', 'warmupSteps: -4'),
      'child.yaml': 'extends: bad-parent.yaml\nstages:\n  v: {like: svae, model: {latentNoise: 1}}\n',
      'bad-own.yaml': 'extends: base.yaml\nstages:\n  v: {like: svae, model: {latentNoise: -1}}\n',
    });
    const load = (f: string) => () => loadPipeline(join(d, f), STAGES);
    expect(load('missing.yaml')).toThrow(/missing\.yaml: stages\.v\.like: no stage named "svea" \(stages: tok, svae, sllm, v\)/);
    expect(load('cycle.yaml')).toThrow(/cycle\.yaml: stages\.b\.like: cycle: a -> b -> a/);
    expect(load('number.yaml')).toThrow(/number\.yaml: stages\.v\.like: must be the name of another stage, got 3/);
    expect(load('child.yaml')).toThrow(/bad-parent\.yaml: stages\.v\.train\.warmupSteps: /);
    expect(load('bad-own.yaml')).toThrow(/bad-own\.yaml: stages\.v\.model\.latentNoise: /);
  });
});

describe('a stage set to null is left out (stage-drop.ts)', () => {
  test('in an extending file and by an override; what still names a dropped stage is an error naming it', () => {
    const d = dir({ 'base.yaml': base, 'less.yaml': 'extends: base.yaml\nstages:\n  sllm: null\n', 'variant.yaml': 'extends: base.yaml\nstages:\n  v: {like: sllm}\n' });
    const names = (file: string, overrides: string[] = []) => Object.keys(loadPipeline(join(d, file), STAGES, overrides).config.stages);
    expect(names('base.yaml')).toEqual(['tok', 'svae', 'sllm']);
    expect(names('less.yaml')).toEqual(['tok', 'svae']);
    expect(names('base.yaml', ['stages.sllm=null'])).toEqual(['tok', 'svae']);
    // Its template dropped, a variant has nothing to be like.
    expect(() => loadPipeline(join(d, 'variant.yaml'), STAGES, ['stages.sllm=null'])).toThrow(/stages\.v\.like: no stage named "sllm" \(stages: tok, svae, v\)/);
    // An input naming a dropped stage: the plan names it.
    const { config } = loadPipeline(join(d, 'base.yaml'), STAGES, ['stages.svae=null']);
    expect(() => planPipeline(config, stageRegistry())).toThrow(/stages\.sllm\.inputs\.svae: unknown stage "svae" \(stages: tok, sllm\)/);
  });
});

