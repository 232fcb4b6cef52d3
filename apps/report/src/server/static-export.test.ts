import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StaticData } from '../shared/types.js';
import { writeFixtureRuns } from '../testing/fixtures.js';
import { exportStatic } from './static-export.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'report-static-'));
  writeFixtureRuns(join(root, 'runs'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('static export', () => {
  it('exports every readable run and shows an unreadable one as an error row', async () => {
    // A run whose summary reads fine but whose metrics do not (it used to abort the whole export).
    writeFileSync(join(root, 'runs', 'paper', 'token-lm', 'metrics.arrow'), 'not arrow at all');
    const { file, runs } = await exportStatic(join(root, 'runs'), join(root, 'out'));
    const html = readFileSync(file, 'utf8');
    const json = /<script type="application\/json" id="sentencelab-data">(.*?)<\/script>/s.exec(html)![1]!;
    const data = JSON.parse(json) as StaticData;
    expect(data.runs.runs).toHaveLength(runs);
    const bad = data.runs.runs.find((r) => r.id === 'paper/token-lm')!;
    expect(bad.ok).toBe(false);
    expect(bad.error).toMatch(/^paper\/token-lm\/metrics\.arrow: /);
    expect(data.metrics['paper/token-lm']).toBeUndefined();
    expect(data.metrics['paper/sllm-h1']?.series['loss']?.step.length).toBeGreaterThan(0);
    expect(html).not.toContain(root);
  });
});
