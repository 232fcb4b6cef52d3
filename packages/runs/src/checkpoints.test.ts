import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRun } from './writer.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'runs-ckpt-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const machine = { cpu: 'c', cores: 1, memoryGb: 1, os: 'linux', node: 'v20' };
const newRun = () => createRun({ root, experiment: 'e', runId: 'r', config: {}, seed: 1, backend: 'cpu', git: { sha: null, dirty: false }, machine });

/** Writes a checkpoint the way the tensor package may: a folder of files at checkpointPath(step). */
function writeCheckpoint(path: string): void {
  mkdirSync(path);
  writeFileSync(join(path, 'model.safetensors'), 'weights');
}

describe('checkpoints', () => {
  it('points latest at a checkpoint atomically and reads it back', () => {
    const run = newRun();
    expect(run.latestCheckpoint()).toBeUndefined();
    const path = run.checkpointPath(100);
    expect(path).toBe(join(run.dir, 'checkpoints', 'step-00000100'));
    writeCheckpoint(path);
    run.setLatestCheckpoint('step-00000100');
    expect(run.latestCheckpoint()).toEqual({ name: 'step-00000100', step: 100, path });
    expect(readdirSync(join(run.dir, 'checkpoints')).sort()).toEqual(['latest', 'step-00000100']);
  });

  it('refuses a pointer to a missing checkpoint', () => {
    const run = newRun();
    expect(() => run.setLatestCheckpoint('step-00000005')).toThrow(/does not exist/);
    expect(() => run.setLatestCheckpoint('best')).toThrow(/step-<number>/);
  });

  it('keeps the newest N and the latest one, counting multi-file checkpoints once', () => {
    const run = newRun();
    for (const step of [10, 20, 30, 40]) writeCheckpoint(run.checkpointPath(step));
    writeFileSync(`${run.checkpointPath(20)}.optim.safetensors`, 'adam');
    run.setLatestCheckpoint('step-00000010');
    const removed = run.pruneCheckpoints(2);
    expect(removed.sort()).toEqual(['step-00000020', 'step-00000020.optim.safetensors']);
    expect(run.listCheckpoints().map((c) => c.step)).toEqual([10, 30, 40]);
    expect(() => run.pruneCheckpoints(0)).toThrow(/keep must be an integer >= 1/);
  });
});
