import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadConceptHead } from '@sentencelab/concept-heads';
import { listRuns, readMeta, readMetrics, readSummary, type RunInfoOk } from '@sentencelab/runs';
import { formatFlops, initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { STAGES, stageRegistry } from '../stages/registry.js';
import { tinyHeadStage, tinyHeadsPipeline, TINY_TWO_TOWER } from '../testing/tiny-pipeline.js';
import { resultsMarkdown } from '../commands/results.js';
import { showText } from '../commands/show.js';
import { withoutPaths } from '../stages/hash.js';
import { executePipeline, readStageRecord, type StageReport } from './execute.js';

let dir = '';
let file = '';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
  dir = mkdtempSync(join(tmpdir(), 'exp-fork-'));
  file = tinyHeadsPipeline(dir, tinyHeadStage('diffusion', 'lcm-diffusion', { model: TINY_TWO_TOWER, steps: 3, train: ', evalEvery: 2, checkpointEvery: 2' }));
});

async function run(overrides: string[] = [], log: string[] = []): Promise<StageReport> {
  const reports = await executePipeline(loadPipeline(file, STAGES, overrides).config, stageRegistry(), { overrides, cacheDir: join(dir, 'cache'), log: (l) => log.push(l) });
  return reports.find((r) => r.name === 'diffusion')!;
}

function headParams(report: StageReport): Map<string, Float32Array> {
  const { model } = loadConceptHead(join(report.artifact.dir, 'head.safetensors'));
  const out = new Map([...model.parameterMap()].map(([name, v]) => [name, v.dataSync() as Float32Array]));
  model.dispose();
  return out;
}

describe('a config that differs only in evaluation options evaluates the trained model again', () => {
  test('sampler options: the finished run is forked (its checkpoint, metrics and cost), not trained again; a training option trains', async () => {
    const first = await run();
    const firstRun = first.artifact.runDir!;
    const log: string[] = [];
    const second = await run(['stages.diffusion.model.sampling.steps=2', 'stages.diffusion.model.guidance.scale=1'], log);
    const secondRun = second.artifact.runDir!;
    // Another stage hash (its results differ), the same training hash, a new run folder.
    expect(second.reused).toBe(false);
    expect(second.hash).not.toBe(first.hash);
    expect(readStageRecord(secondRun).trainingHash).toBe(readStageRecord(firstRun).trainingHash);
    expect(log.some((l) => l.includes(`the trained model of ${firstRun}`))).toBe(true);
    expect(await showText(secondRun)).toContain(`trained by ${firstRun} (its step 3 checkpoint`);
    const meta = await readMeta(secondRun);
    expect(meta.forkedFrom).toMatchObject({ run: firstRun, step: 3 });
    expect(meta.resources?.trainingFlops).toBe((await readMeta(firstRun)).resources?.trainingFlops);
    // Its own CPU time is what the first run had used less; `exp results` sums count the training once.
    const firstMeta = await readMeta(firstRun);
    expect(meta.forkedFrom?.inherited?.cpuUserS).toBe(firstMeta.resources?.cpuUserS);
    const listed = (await listRuns(join(dir, 'runs'), { config: true })).filter((r): r is RunInfoOk => r.ok && [firstRun, secondRun].includes(r.dir));
    const md = await resultsMarkdown('tiny', listed);
    expect(md).toContain(`(a fork of ${basename(firstRun)}: evaluation only)`);
    expect(md).toContain(`- training compute: ${formatFlops(firstMeta.resources!.trainingFlops!)} summed over 1 of the 2 runs' training steps`);
    expect(md).toContain('1 run is a fork of a finished run');
    // The same weights; its training curve is the first run's, each validation row once.
    const [a, b] = [headParams(first), headParams(second)];
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, v] of a) expect(b.get(name), name).toEqual(v);
    const [ma, mb] = [await readMetrics(firstRun), await readMetrics(secondRun)];
    expect(Array.from(mb.series['train/loss']!.value)).toEqual(Array.from(ma.series['train/loss']!.value));
    expect(Array.from(mb.series['val/loss']!.step)).toEqual([2, 3]);
    expect(Array.from(mb.series['val/loss']!.value)).toEqual(Array.from(ma.series['val/loss']!.value));
    // Evaluated under its own sampler: 2 DDIM steps without guidance predict other vectors.
    const [ea, eb] = [(await readSummary(firstRun))!.eval, (await readSummary(secondRun))!.eval];
    expect(eb['l2']).not.toBe(ea['l2']);
    expect(eb['l2_copy_prev']).toBe(ea['l2_copy_prev']);
    // The saved head carries the sampler it was evaluated with.
    expect(JSON.parse(readFileSync(join(second.artifact.dir, 'artifact.json'), 'utf8')).meta.config.sampling.steps).toBe(2);

    // Only the round trip's sample size: every other figure as the first run's, to the last digit.
    const rt = await run(['stages.diffusion.roundTripSentences=1']);
    expect((await readMeta(rt.artifact.runDir!)).forkedFrom?.step).toBe(3);
    const er = (await readSummary(rt.artifact.runDir!))!.eval;
    for (const k of Object.keys(ea).filter((k) => !k.startsWith('roundtrip_') && k !== 'stage_costs')) expect(er[k], k).toEqual(ea[k]);

    // A training option: trained afresh.
    const lr = await run(['stages.diffusion.train.lr=0.002']);
    expect((await readMeta(lr.artifact.runDir!)).forkedFrom).toBeUndefined();
    expect(readStageRecord(lr.artifact.runDir!).trainingHash).not.toBe(readStageRecord(firstRun).trainingHash);
  }, 240_000);

  test("the SentenceVAE's evaluation options: it is evaluated again, and the head after it, trained on the same vectors, is forked too", async () => {
    const log: string[] = [];
    const reports = await executePipeline(loadPipeline(file, STAGES, []).config, stageRegistry(), { overrides: [], cacheDir: join(dir, 'cache'), log: (l) => log.push(l) });
    const overrides = ['stages.svae.evalSentences=2', 'stages.svae.resamples=50'];
    const again = await executePipeline(loadPipeline(file, STAGES, overrides).config, stageRegistry(), { overrides, cacheDir: join(dir, 'cache'), log: (l) => log.push(l) });
    const [svae0, head0] = ['svae', 'diffusion'].map((n) => reports.find((r) => r.name === n)!);
    const [svae1, head1] = ['svae', 'diffusion'].map((n) => again.find((r) => r.name === n)!);
    for (const [before, after] of [[svae0!, svae1!], [head0!, head1!]] as const) {
      expect(after.hash).not.toBe(before.hash);
      const trainingHash = readStageRecord(before.artifact.runDir!).trainingHash;
      expect(readStageRecord(after.artifact.runDir!).trainingHash).toBe(trainingHash);
      // Forked from the latest run of that training (the first test's forks are among them).
      const donor = (await readMeta(after.artifact.runDir!)).forkedFrom?.run;
      expect(donor && readStageRecord(donor).trainingHash).toBe(trainingHash);
    }
    expect(log.some((l) => l.startsWith('[diffusion]') && l.includes('(the same training: only its evalDocuments, roundTripSentences, resamples, brierSentences, aheadSentences, aheadHorizon, model.sampling, model.guidance.scale, model.guidance.rescale or the evaluation options of the stages it builds on differ)'))).toBe(true);
    // Fewer reconstruction sentences; the head's figures, from the same weights and vectors, to the last digit.
    expect((await readSummary(svae1!.artifact.runDir!))!.eval['recon_sentences']).toBe(2);
    const [e0, e1] = [(await readSummary(head0!.artifact.runDir!))!.eval, (await readSummary(head1!.artifact.runDir!))!.eval];
    for (const k of Object.keys(e0).filter((k) => k !== 'stage_costs')) expect(e1[k], k).toEqual(e0[k]);
    // A training option of the SentenceVAE: it trains afresh, and so does the head on its vectors.
    const trained = await executePipeline(loadPipeline(file, STAGES, ['stages.svae.train.lr=0.002']).config, stageRegistry(), { overrides: ['stages.svae.train.lr=0.002'], cacheDir: join(dir, 'cache') });
    expect((await readMeta(trained.find((r) => r.name === 'diffusion')!.artifact.runDir!)).forkedFrom).toBeUndefined();
  }, 240_000);

  test('a recorded run that is gone is passed over: the model is trained', async () => {
    const trained = await run(['stages.diffusion.model.sampling.steps=3']);
    // The latest finished run of that training is the one recorded; delete it (and the first, forked from).
    const recorded = trained.artifact.runDir!;
    const donor = (await readMeta(recorded)).forkedFrom?.run;
    rmSync(recorded, { recursive: true, force: true });
    if (donor) rmSync(donor, { recursive: true, force: true });
    const again = await run(['stages.diffusion.model.sampling.steps=1']);
    expect((await readMeta(again.artifact.runDir!)).forkedFrom).toBeUndefined();
  }, 240_000);
});

test('withoutPaths drops dotted paths, and objects they leave empty, from a copy', () => {
  const paths = ['evalDocuments', 'model.sampling', 'model.guidance.scale', 'absent.key'];
  const config = { evalDocuments: 3, train: { lr: 1 }, model: { sampling: { steps: 2 }, guidance: { scale: 1, conditionDropout: 0.1 } } };
  expect(withoutPaths(config, paths)).toEqual({ train: { lr: 1 }, model: { guidance: { conditionDropout: 0.1 } } });
  expect(config.model.sampling).toEqual({ steps: 2 });
  expect(withoutPaths({ train: { lr: 1 }, model: { guidance: { scale: 1 } } }, paths)).toEqual(withoutPaths({ train: { lr: 1 } }, paths));
});
