import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRun, readRun } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test } from 'vitest';
import { trainLoop } from '../train/loop.js';
import { TinyStream, tinySetup } from '../train/testing/tiny.js';
import { compareText, configDiff, madeUnderText } from './compare.js';
import { lsText } from './ls.js';
import { showText } from './show.js';

const exec = promisify(execFile);
const cli = join(__dirname, '..', 'cli.ts');
const root = mkdtempSync(join(tmpdir(), 'exp-inspect-'));

/** Two real runs of the tiny model that differ in one config value (and so in their metrics). */
beforeAll(async () => {
  await initBackend('cpu', { log: false });
  for (const [runId, lr, status] of [['lm@lr=0.01-a', 0.01, 'done'], ['lm@lr=0.03-b', 0.03, 'interrupted']] as const) {
    const config = { name: 'inspect', seed: 7, stages: { lm: { kind: 'token-lm', train: { lr, steps: 4 } } } };
    const run = createRun({ root, experiment: 'inspect', runId, config, overrides: [`stages.lm.train.lr=${lr}`], seed: 7, backend: 'cpu', backendInfo: { kind: 'token-lm' } });
    const setup = tinySetup(7, new TinyStream(7));
    setup.optimizer.lr = lr;
    await trainLoop({ ...setup, lrAt: () => lr, run, steps: 4, evalEvery: 2, checkpointEvery: 2, keepCheckpoints: 1, logEvery: 1 });
    run.writeSummary({ params: setup.model.numParams(), ppl: lr * 150, ppl_ci_low: lr * 140, ppl_ci_high: lr * 160, ppl_tokens: 1234 });
    run.appendSample({ step: 4, prompt: 'The cat', output: ' sat.', model: 'lm' });
    run.setStatus(status);
  }
});

describe('ls, show, compare on real run folders', () => {
  test('ls lists every run with status, kind and key metrics', async () => {
    const text = await lsText(root);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^run\s+status\s+kind\s+step\s+loss\s+val loss\s+ppl\s+params\s+started$/);
    expect(lines[2]).toMatch(/^inspect\/lm@lr=0\.01-a\s+done\s+token-lm\s+4\s+\d\.\d+\s+\d\.\d+\s+1\.500\s+97\s/);
    expect(lines[3]).toMatch(/^inspect\/lm@lr=0\.03-b\s+interrupted\s+token-lm\s+4\s+.*\s4\.500\s+97\s/);
    expect(await lsText(root, 'nope')).toBe(`no runs in ${root} for experiment nope`);
  });

  test('show prints meta, metric summaries, eval results and samples', async () => {
    const text = await showText(join(root, 'inspect', 'lm@lr=0.01-a'));
    expect(text).toContain('run        inspect/lm@lr=0.01-a');
    expect(text).toContain('status     done');
    expect(text).toContain('overrides  stages.lm.train.lr=0.01');
    // Seconds as formatCell writes them: 0.0922, or 1.89e-4 for a run this short.
    expect(text).toMatch(/^cpu {8}[\d.e-]+ s user \+ [\d.e-]+ s sys; load avg \(1 min\) [\d.]+ at start, [\d.]+ at end$/m);
    // 4 steps of the tiny model: 2,816 FLOPs each (the loop's test works them out).
    expect(text).toContain('compute    11.3 kFLOP in the training steps (matrix products, forward and backward)');
    expect(text).toContain('checkpoint step-00000004.safetensors (step 4)');
    expect(text).toMatch(/train\/loss\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d\s+4/);
    // The learning rate and gradient norm have no better side: no "best" (nor its step).
    expect(text).toMatch(/^train\/lr\s+0\.0100\s+0\.0100\s+0\.0100\s+-\s+-\s+4$/m);
    expect(text).toMatch(/^train\/grad_norm\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+-\s+-\s+4$/m);
    expect(text).toMatch(/ppl_tokens\s+1234/);
    expect(text).toMatch(/^ppl\s+1\.500 \[1\.400, 1\.600\]$/m);
    expect(text).not.toContain('ppl_ci_low');
    expect(text).toContain('sample @4 (lm): The cat ->  sat.');
  });

  test('compare shows only the config keys that differ, then metrics side by side', async () => {
    const runs = await Promise.all(['lm@lr=0.01-a', 'lm@lr=0.03-b'].map((r) => readRun(join(root, 'inspect', r))));
    const text = compareText(runs);
    const [diff, summary, ...rest] = text.split('\n\n');
    expect(diff).toMatch(/^config \(differences only\)\s+lm@lr=0\.01-a\s+lm@lr=0\.03-b\n-+.*\nstages\.lm\.train\.lr\s+0\.0100\s+0\.0300$/);
    expect(text).not.toContain('stages.lm.train.steps');
    expect(rest).toEqual([]);
    expect(summary).toMatch(/status\s+done\s+interrupted/);
    expect(summary).toMatch(/\nppl\s+1\.500 \[1\.400, 1\.600\]\s+4\.500 \[4\.200, 4\.800\]\n/);
    expect(summary).toMatch(/train\/loss \(last\)\s+[\d.]+\s+[\d.]+/);
    expect(summary).toMatch(/train\/loss \(best\)\s+[\d.]+\s+[\d.]+/);
    expect(summary).toMatch(/train\/lr \(last\)\s+0\.0100\s+0\.0300/);
    expect(summary).not.toMatch(/train\/(lr|grad_norm) \(best\)|sys\/\w+ \(best\)/);
  });

  test('compare says what the runs were made under where it differs (backend, commit, machine) and what that means', async () => {
    const [a, b] = await Promise.all(['lm@lr=0.01-a', 'lm@lr=0.03-b'].map((r) => readRun(join(root, 'inspect', r))));
    const other = { ...b!, meta: { ...b!.meta, backend: 'native', git: { sha: 'fedcba9876543210fedc', dirty: true } } };
    const a2 = { ...a!, meta: { ...a!.meta, git: { sha: '0123456789abcdef0123', dirty: false } } };
    const text = compareText([a2, other]);
    const [, made] = text.split('\n\n');
    expect(made).toMatch(/^made under \(differences only\)\s+lm@lr=0\.01-a\s+lm@lr=0\.03-b\n-+.*\nbackend\s+cpu\s+native\ngit\s+0123456789ab\s+fedcba987654 \(dirty\)\n/);
    expect(made).toContain('- different backends:');
    expect(made).toContain('- different commits:');
    expect(made).not.toContain('machine');
    expect(madeUnderText([a2, a2], ['x', 'y'])).toBe('');
  });

  test('native kernels: show prints them; compare flags two runs that recorded different ones, not a run that recorded none', async () => {
    const [a] = await Promise.all(['lm@lr=0.01-a'].map((r) => readRun(join(root, 'inspect', r))));
    const onNative = (simd: string | undefined, blas = 'builtin') => ({
      ...a!,
      meta: { ...a!.meta, backend: 'native', backendInfo: { ...(simd === undefined ? {} : { native: { simd, threads: 2, blas } }) } },
    });
    const made = madeUnderText([onNative('avx512'), onNative('avx2', 'openblas')], ['x', 'y']);
    expect(made).toMatch(/\nnative kernels\s+avx512\s+avx2 \+ OpenBLAS GEMM\n/);
    expect(made).toContain('- different native kernels (SIMD width, GEMM): their products sum in different orders');
    expect(madeUnderText([onNative('avx512'), onNative(undefined)], ['x', 'y'])).toBe('');
    expect(madeUnderText([onNative('avx2'), onNative('avx2')], ['x', 'y'])).toBe('');
    // show: the run folder's meta.json as the runner writes it.
    const dir = mkdtempSync(join(tmpdir(), 'exp-show-native-'));
    const run = createRun({ root: dir, experiment: 'x', runId: 'r', config: {}, seed: 3, backend: 'native', backendInfo: { native: { simd: 'avx512', threads: 2, blas: 'builtin' } } });
    run.close();
    expect(await showText(run.dir)).toMatch(/\nbackend {4}native \(avx512 kernels, 2 threads\), seed 3\n/);
  });

  test('ls and show print terminal escape sequences in folder names and errors as visible escapes', async () => {
    const hostile = mkdtempSync(join(tmpdir(), 'exp-inspect-esc-'));
    const run = createRun({ root: hostile, experiment: 'x', runId: 'r', config: {}, seed: 1, backend: 'cpu' });
    run.setStatus('failed', new Error('bad\x1b[2J\rthing'));
    const name = 'r\x1b]0;pwned\x07\x1b[31m';
    renameSync(run.dir, join(hostile, 'x', name));
    const listed = await lsText(hostile);
    expect(listed).toContain('x/r\\x1b]0;pwned\\x07\\x1b[31m');
    expect(listed).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    const shown = await showText(join(hostile, 'x', name));
    expect(shown).toContain('status     failed: bad\\x1b[2J\\rthing'.replace('\\r', '\\x0d'));
    expect(shown).toContain('folder     ' + join(hostile, 'x', 'r\\x1b]0;pwned\\x07\\x1b[31m'));
    expect(shown).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
  });

  test('configDiff treats a missing key as a difference and ignores key order', () => {
    expect(configDiff([{ a: { x: 1, y: [1, 2] } }, { a: { y: [1, 2], x: 1 } }])).toEqual([]);
    expect(configDiff([{ a: 1 }, { a: 1, b: 2 }])).toEqual([{ key: 'b', values: [undefined, 2] }]);
  });

  test('the CLI runs compare and show, resolving runs by a unique part of their id', async () => {
    const node = [process.execPath, ['--conditions=source', '--import', 'tsx', cli]] as const;
    const cmp = await exec(node[0], [...node[1], 'compare', 'lr=0.01', 'lr=0.03', '--runs-dir', root]);
    expect(cmp.stdout).toMatch(/stages\.lm\.train\.lr\s+0\.0100\s+0\.0300/);
    const bad = await exec(node[0], [...node[1], 'show', 'lm@', '--runs-dir', root]).catch((e: { stderr: string; code: number }) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toContain('"lm@" matches 2 runs: inspect/lm@lr=0.01-a, inspect/lm@lr=0.03-b');
  }, 60_000);

  test('output into a pipe whose reader has gone (exp ls | head) ends quietly, not with an EPIPE stack trace', async () => {
    const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', cli, 'ls', '--runs-dir', root], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.destroy(); // closed before the CLI has written a byte
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((done) => proc.on('close', done));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  }, 60_000);
});
