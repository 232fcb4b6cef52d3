import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { executePipeline } from '../pipeline/execute.js';
import { STAGES, stageRegistry } from '../stages/registry.js';
import { repoRoot, tinyHeadStage, tinyHeadsPipeline, TINY_TWO_TOWER } from '../testing/tiny-pipeline.js';
import { generateAction, type GenerateCliOptions } from './generate.js';

const exec = promisify(execFile);
const cli = join(__dirname, '..', 'cli.ts');
const prompt = 'The meeting moved to Thursday. Please bring the budget sheet.';
const heads = { mse: '', diffusion: '' };
let cacheDir = '';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
  const dir = mkdtempSync(join(tmpdir(), 'exp-generate-heads-'));
  const file = tinyHeadsPipeline(dir, tinyHeadStage('mse', 'lcm-mse', { model: ', layers: 1' }) + tinyHeadStage('diffusion', 'lcm-diffusion', { model: TINY_TWO_TOWER }));
  cacheDir = join(dir, 'cache');
  const reports = await executePipeline(loadPipeline(file, STAGES).config, stageRegistry(), { overrides: [], cacheDir, log: () => {} });
  heads.mse = reports.find((r) => r.name === 'mse')!.artifact.runDir!;
  heads.diffusion = reports.find((r) => r.name === 'diffusion')!.artifact.runDir!;
}, 180_000);

function generate(run: string, o: Partial<GenerateCliOptions> = {}): Promise<string> {
  return generateAction(run, { prompt, maxSentences: 1, maxTokens: 8, temperature: 0, topP: 1, seed: 0, runsDir: '', cacheDir, ...o }, () => {});
}

describe('exp generate from concept heads', () => {
  test("the SentenceVAE decodes a head's vectors with --max-tokens and --temperature (seeded), as it does an SLLM's", async () => {
    const greedy = await generate(heads.mse);
    const first = await generate(heads.mse, { maxTokens: 1 });
    // Greedy decoding cut after one token: the start of the 8-token sentence.
    expect(first.length).toBeGreaterThan(1);
    expect(first.length).toBeLessThan(greedy.length);
    expect(greedy.startsWith(first)).toBe(true);
    const sampled = await generate(heads.mse, { temperature: 5, seed: 3 });
    expect(sampled).not.toBe(greedy);
    expect(await generate(heads.mse, { temperature: 5, seed: 3 })).toBe(sampled);
  }, 60_000);

  test("a diffusion head samples with the sampler options given instead of its config's; options a head cannot use are errors", async () => {
    const a = await generate(heads.diffusion, { guidance: 1, initialNoise: 1, samplingSteps: 2, eta: 0.5, feedback: 'reencode', maxSentences: 2 });
    expect(a.length).toBeGreaterThan(0);
    expect(await generate(heads.diffusion, { guidance: 1, initialNoise: 1, samplingSteps: 2, eta: 0.5, feedback: 'reencode', maxSentences: 2 })).toBe(a);
    // The steps reach the DDIM sampler, which checks them against the trained schedule's 50.
    await expect(generate(heads.diffusion, { samplingSteps: 51 })).rejects.toThrow('sampling.steps must be an integer in [1, 50] (the training steps), got 51');
    await expect(generate(heads.mse, { guidance: 2 })).rejects.toThrow('--guidance applies to diffusion heads (lcm-diffusion) only; this run is a lcm-mse stage');
  }, 60_000);

  test('the CLI takes the head options and rejects a --feedback it does not know', async () => {
    const args = [...['--conditions=source', '--import', 'tsx', cli, 'generate', heads.diffusion], ...['--prompt', prompt, '--max-sentences', '1', '--max-tokens', '8', '--cache-dir', cacheDir]];
    const { stdout } = await exec(process.execPath, [...args, '--guidance', '1', '--sampling-steps', '2', '--initial-noise', '1', '--eta', '0.5'], { cwd: repoRoot });
    expect(stdout.startsWith(prompt)).toBe(true);
    expect(stdout).toBe(`${prompt}${await generate(heads.diffusion, { guidance: 1, samplingSteps: 2, initialNoise: 1, eta: 0.5 })}\n`);
    await expect(exec(process.execPath, [...args, '--feedback', 'text'], { cwd: repoRoot })).rejects.toThrow(/argument 'text' is invalid. Allowed choices are vector, reencode/);
  }, 120_000);
});
