import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMeta } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { pipelineSchema, type AnyStage, type PipelineConfig } from '../stages/types.js';
import { computeOf, type StageCompute } from './compute.js';
import { executePipeline, readStageRecord } from './execute.js';
import { planPipeline } from './plan.js';

/**
 * Two small stage kinds that do real file work: `tokenizer` writes its `text` option (and the
 * data section) to a file; `svae` (a training stage, so it gets a run folder) writes its input's
 * text repeated `times`. `calls` counts real executions, to tell reuse from recomputation.
 */
function fixtureStages(calls: string[], failOn?: string): AnyStage[] {
  const tokenizer: AnyStage = {
    kind: 'tokenizer',
    description: 'writes its text',
    schema: z.strictObject({ text: z.string().default('abc') }),
    inputs: {},
    packages: [],
    trains: false,
    async run(ctx) {
      calls.push(ctx.name);
      const c = ctx.config as { text: string };
      writeFileSync(join(ctx.outDir, 'out.txt'), `${c.text}|${JSON.stringify(ctx.pipeline.data)}`);
      return { files: { out: 'out.txt' }, meta: { length: c.text.length } };
    },
  };
  const svae: AnyStage = {
    kind: 'svae',
    description: 'repeats its input',
    schema: z.strictObject({ times: z.number().int().positive().default(2) }),
    inputs: { tokenizer: { kinds: ['tokenizer'], description: 'the text to repeat' } },
    packages: [],
    trains: true,
    async run(ctx) {
      calls.push(ctx.name);
      if (failOn === ctx.name) throw new Error('boom in svae');
      const input = ctx.inputs['tokenizer'] as { dir: string; files: Record<string, string> };
      const text = readFileSync(join(input.dir, input.files['out']!), 'utf8');
      writeFileSync(join(ctx.outDir, 'rep.txt'), text.repeat((ctx.config as { times: number }).times));
      ctx.run!.logMetrics(1, { 'train/loss': 1 });
      // What the training loop reports of its steps' matrix products.
      ctx.run!.setTrainingFlops(1234);
      ctx.run!.writeSummary({ params: 3 });
      return { files: { rep: 'rep.txt' }, meta: {} };
    },
  };
  const evalStage: AnyStage = {
    kind: 'eval',
    description: 'lists its models',
    schema: z.strictObject({}),
    inputs: { models: { kinds: ['svae', 'token-lm'], many: true, description: 'models to compare' } },
    packages: [],
    trains: false,
    async run(ctx) {
      calls.push(ctx.name);
      return { files: {}, meta: { models: (ctx.inputs['models'] as { stage: string }[]).map((a) => a.stage) } };
    },
  };
  return [tokenizer, svae, evalStage];
}

function setup(yaml: string, stages: AnyStage[], overrides: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'exp-pipe-'));
  const file = join(dir, 'p.yaml');
  writeFileSync(file, yaml);
  const schema = pipelineSchema(z.strictObject({ corpus: z.string().default('brown') }).default({ corpus: 'brown' }), stages);
  const load = (ov: string[] = overrides) => {
    const { config } = loadConfig(file, schema, [...ov, `runsDir=${join(dir, 'runs')}`]);
    return config as PipelineConfig;
  };
  return { dir, file, load, registry: new Map(stages.map((s) => [s.kind, s])) };
}

const PIPE = `
name: t
stages:
  tok: {kind: tokenizer, text: hello}
  enc: {kind: svae, inputs: {tokenizer: tok}, times: 3}
  ev: {kind: eval, inputs: {models: [enc]}}
`;

describe('planPipeline', () => {
  test('orders stages by their inputs', () => {
    const calls: string[] = [];
    const yaml = `name: t\nstages:\n  ev: {kind: eval, inputs: {models: [enc]}}\n  enc: {kind: svae, inputs: {tokenizer: tok}}\n  tok: {kind: tokenizer}\n`;
    const { load, registry, file } = setup(yaml, fixtureStages(calls));
    expect(planPipeline(load(), registry, file).map((p) => p.name)).toEqual(['tok', 'enc', 'ev']);
  });

  test.each([
    ['an unknown stage name', 'enc: {kind: svae, inputs: {tokenizer: tokk}}', /stages\.enc\.inputs\.tokenizer: unknown stage "tokk" \(stages: tok, enc\)/],
    ['an unknown slot', 'enc: {kind: svae, inputs: {tokenizer: tok, svae: tok}}', /stages\.enc\.inputs\.svae: a svae stage has no input "svae"/],
    ['a stage of the wrong kind', 'enc: {kind: svae, inputs: {tokenizer: enc2}}\n  enc2: {kind: svae, inputs: {tokenizer: tok}}', /stages\.enc\.inputs\.tokenizer: stage "enc2" is a svae stage; expected tokenizer/],
    ['a missing required input', 'enc: {kind: svae}', /stages\.enc\.inputs: missing input "tokenizer"/],
    ['a list in a one-stage slot', 'enc: {kind: svae, inputs: {tokenizer: [tok]}}', /takes one stage name, not a list/],
  ])('rejects %s, naming the key path', (_what, line, message) => {
    const { load, registry, file } = setup(`name: t\nstages:\n  tok: {kind: tokenizer}\n  ${line}\n`, fixtureStages([]));
    expect(() => planPipeline(load(), registry, file)).toThrow(ConfigError);
    expect(() => planPipeline(load(), registry, file)).toThrow(message);
  });

  test('rejects a dependency cycle', () => {
    const stages = fixtureStages([]);
    stages[0]!.inputs = { svae: { kinds: ['svae'], optional: true, description: 'x' } };
    const { load, registry, file } = setup(`name: t\nstages:\n  tok: {kind: tokenizer, inputs: {svae: enc}}\n  enc: {kind: svae, inputs: {tokenizer: tok}}\n`, stages);
    expect(() => planPipeline(load(), registry, file)).toThrow(/dependency cycle: tok -> enc -> tok/);
  });

  test('the schema rejects unknown keys in a stage and unknown kinds', () => {
    const { load } = setup(`name: t\nstages:\n  tok: {kind: tokenizer, txt: 1}\n`, fixtureStages([]));
    expect(load).toThrow(/stages\.tok: unknown key "txt"/);
    const bad = setup(`name: t\nstages:\n  tok: {kind: tokenzer}\n`, fixtureStages([]));
    expect(bad.load).toThrow(/stages\.tok\.kind/);
  });
});

describe('executePipeline', () => {
  test('a stage whose config, inputs and data are unchanged is reused; a change reruns it and everything downstream only', async () => {
    const calls: string[] = [];
    const { dir, load, registry } = setup(PIPE, fixtureStages(calls));
    const cacheDir = join(dir, 'cache');
    const quiet = { overrides: [], cacheDir, log: () => {} };
    const first = await executePipeline(load(), registry, quiet);
    expect(calls).toEqual(['tok', 'enc', 'ev']);
    expect(first.map((r) => r.reused)).toEqual([false, false, false]);
    const enc = first[1]!.artifact;
    expect(readFileSync(join(enc.dir, 'rep.txt'), 'utf8')).toBe('hello|{"corpus":"brown"}'.repeat(3));
    expect((await readMeta(enc.runDir!)).status).toBe('done');
    expect(readStageRecord(enc.runDir!)).toMatchObject({ stage: 'enc', kind: 'svae', hash: enc.hash });

    calls.length = 0;
    const second = await executePipeline(load(), registry, quiet);
    expect(calls).toEqual([]);
    expect(second.map((r) => r.artifact.hash)).toEqual(first.map((r) => r.artifact.hash));

    calls.length = 0;
    await executePipeline(load(['stages.enc.times=2']), registry, quiet);
    expect(calls).toEqual(['enc', 'ev']);

    calls.length = 0;
    await executePipeline(load(['data.corpus=other']), registry, quiet);
    expect(calls).toEqual(['tok', 'enc', 'ev']);
  });

  test('a stage computed with other kernels is computed again; another thread count reuses it', async () => {
    const calls: string[] = [];
    const { dir, load, registry } = setup(PIPE, fixtureStages(calls));
    const quiet = { overrides: [], cacheDir: join(dir, 'cache'), log: () => {} };
    const native = (simd: string, threads: number) => ({ backend: 'native', native: { simd, threads, blas: 'builtin' as const } });
    const first = await executePipeline(load(), registry, { ...quiet, backend: native('avx512', 2) });
    expect(calls).toEqual(['tok', 'enc', 'ev']);
    calls.length = 0;
    // Bit-identical across thread counts: reused.
    const again = await executePipeline(load(), registry, { ...quiet, backend: native('avx512', 1) });
    expect(calls).toEqual([]);
    expect(again.map((r) => r.artifact.hash)).toEqual(first.map((r) => r.artifact.hash));
    // AVX2 kernels sum in another order, the wasm fallback differs again: neither reuses.
    for (const backend of [native('avx2', 2), { backend: 'wasm' }, { backend: 'webgpu', device: { vendor: 'v', architecture: 'a', device: 'd', description: 'x', software: false }, matmul: 'vec64' as const }]) {
      calls.length = 0;
      await executePipeline(load(), registry, { ...quiet, backend });
      expect(calls).toEqual(['tok', 'enc', 'ev']);
    }
    // Another matmul kernel on the same adapter is another key.
    calls.length = 0;
    await executePipeline(load(), registry, { ...quiet, backend: { backend: 'webgpu', device: { vendor: 'v', architecture: 'a', device: 'd', description: 'x', software: false } } });
    expect(calls).toEqual(['tok', 'enc', 'ev']);
  });

  test('a cached artifact whose files moved is recomputed, and the new one (not the stale one under the same hash) goes downstream and into the cache', async () => {
    const calls: string[] = [];
    const stages = fixtureStages(calls);
    const { dir, load, registry } = setup(PIPE, stages);
    // A tokenizer whose artifact points at a folder outside the cache, as the real one's dataset does.
    let runs = 0;
    stages[0] = {
      ...stages[0]!,
      isUsable: (a) => existsSync(String(a.meta['external'])),
      async run(ctx) {
        calls.push(ctx.name);
        const external = join(dir, `external-${++runs}.txt`);
        writeFileSync(external, 'data');
        writeFileSync(join(ctx.outDir, 'out.txt'), 'text');
        return { files: { out: 'out.txt' }, meta: { external } };
      },
    };
    registry.set('tokenizer', stages[0]);
    const quiet = { overrides: [], cacheDir: join(dir, 'cache'), log: () => {} };
    const first = await executePipeline(load(), registry, quiet);
    const moved = String(first[0]!.artifact.meta['external']);
    rmSync(moved);

    calls.length = 0;
    const lines: string[] = [];
    const second = await executePipeline(load(), registry, { ...quiet, log: (l: string) => lines.push(l) });
    expect(calls).toEqual(['tok']);
    expect(lines.some((l) => /\[tok\] cached artifact \w+ is no longer usable/.test(l))).toBe(true);
    const fresh = String(second[0]!.artifact.meta['external']);
    expect(fresh).not.toBe(moved);
    expect(existsSync(fresh)).toBe(true);
    expect(second[0]!.artifact.hash).toBe(first[0]!.artifact.hash);

    calls.length = 0;
    const third = await executePipeline(load(), registry, quiet);
    expect(calls).toEqual([]);
    expect(third[0]!.artifact.meta['external']).toBe(fresh);
  });

  test('each artifact records its FLOPs, CPU and wall seconds, its backend, and those of every stage upstream (the training stage\'s from its run folder)', async () => {
    await initBackend('cpu', { log: false });
    const { dir, load, registry } = setup(PIPE, fixtureStages([]));
    const t0 = performance.now();
    const [tok, enc, ev] = (await executePipeline(load(), registry, { overrides: [], cacheDir: join(dir, 'cache'), log: () => {} })).map((r) => r.artifact);
    const elapsed = (performance.now() - t0) / 1000;
    const [cTok, cEnc, cEv] = [computeOf(tok!)!, computeOf(enc!)!, computeOf(ev!)!];
    expect(cTok).toMatchObject({ upstream: {}, complete: true, backend: 'cpu' });
    // FLOPs: the training stage's as its loop reported them, the others' as counted while they ran (no products: 0).
    expect([cTok.flops, cEnc.flops, cEv.flops]).toEqual([0, 1234, 0]);
    const cost = (stage: string, c: StageCompute) => ({ stage, flops: c.flops, cpu_s: c.cpu_s, wall_s: c.wall_s, backend: c.backend });
    expect(cEnc.upstream).toEqual({ [tok!.hash]: cost('tok', cTok) });
    expect(cEv.upstream).toEqual({ [tok!.hash]: cost('tok', cTok), [enc!.hash]: cost('enc', cEnc) });
    for (const c of [cTok, cEnc, cEv]) {
      expect(c.wall_s).toBeGreaterThan(0);
      expect(c.wall_s).toBeLessThanOrEqual(elapsed);
    }
    expect(cTok.wall_s! + cEnc.wall_s! + cEv.wall_s!).toBeLessThanOrEqual(elapsed);
    // The training stage's cost is its run folder's (meta.json resources), so a resumed run counts its earlier segments.
    const res = (await readMeta(enc!.runDir!)).resources!;
    expect(cEnc.cpu_s).toBeGreaterThan(0);
    expect(cEnc.cpu_s).toBeLessThanOrEqual(res.cpuUserS + res.cpuSystemS);
  });

  test('an exception marks the stage run failed with the error in meta.json and leaves no artifact', async () => {
    const calls: string[] = [];
    const { dir, load, registry } = setup(PIPE, fixtureStages(calls, 'enc'));
    const cacheDir = join(dir, 'cache');
    await expect(executePipeline(load(), registry, { overrides: [], cacheDir, log: () => {} })).rejects.toThrow('boom in svae');
    expect(calls).toEqual(['tok', 'enc']);
    const runs = join(dir, 'runs', 't');
    const { readdirSync } = await import('node:fs');
    const [runId] = readdirSync(runs);
    const meta = await readMeta(join(runs, runId!));
    expect(meta.status).toBe('failed');
    expect(meta.error?.message).toBe('boom in svae');
    expect(readdirSync(cacheDir).filter((n) => !n.endsWith('.run'))).toHaveLength(1);
  });

  test('meta.json records the backend in use and, when reported, its device or native kernels', async () => {
    const { dir, load, registry } = setup(PIPE, fixtureStages([]));
    const device = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe', description: 'llvmpipe (LLVM 15)', software: true };
    const base = { overrides: [], cacheDir: join(dir, 'cache'), log: () => {} };
    const withDevice = await executePipeline(load(), registry, { ...base, backend: { backend: 'webgpu', device } });
    const meta = await readMeta(withDevice[1]!.artifact.runDir!);
    expect(meta.backend).toBe('webgpu');
    expect(meta.backendInfo).toMatchObject({ stage: 'enc', kind: 'svae', device });
    expect(meta.backendInfo).not.toHaveProperty('native');
    const native = { simd: 'avx2', threads: 2, blas: 'builtin' as const };
    const onNative = await executePipeline(load(['stages.enc.times=4']), registry, { ...base, backend: { backend: 'native', native } });
    const nativeMeta = await readMeta(onNative[1]!.artifact.runDir!);
    expect(nativeMeta.backend).toBe('native');
    expect(nativeMeta.backendInfo).toMatchObject({ native });
    expect(nativeMeta.backendInfo).not.toHaveProperty('device');
  });
});
