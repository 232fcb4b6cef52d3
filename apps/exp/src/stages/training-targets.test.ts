import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatasetDocument } from '@sentencelab/data';
import { nextSentencePairs, stopTargets } from '@sentencelab/latent-lm';
import { readMetrics, readSummary } from '@sentencelab/runs';
import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadPipeline } from '../config/pipeline.js';
import { executePipeline } from '../pipeline/execute.js';
import { tinyPipelineYaml, writeSamplesJsonl } from '../testing/tiny-pipeline.js';
import { sllmBatches } from './latent.js';
import { STAGES, stageRegistry } from './registry.js';


beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

/** A document of n one-token sentences whose token is the sentence index (+ 4, clear of the specials). */
function doc(id: string, n: number): DatasetDocument {
  return {
    id,
    sentences: Array.from({ length: n }, (_, i) => Int32Array.of(4 + i)),
    texts: Array.from({ length: n }, (_, i) => `s${i}`),
    paragraphStarts: Array.from({ length: n }, (_, i) => i === 0),
  };
}

describe('SLLM training windows', () => {
  test('overlap by one sentence: every sentence after a document\'s first is a target exactly once, every stop label once', () => {
    const docs = Array.from({ length: 12 }, (_, n) => doc(`d${n}`, n));
    const maxLen = 4;
    const targets: string[] = [];
    const stops: string[] = [];
    for (const b of sllmBatches(docs, 0, { batchSize: 3, maxLen, maxTokens: 2, seed: 5, epoch: 1 })) {
      const S = b.shape[1];
      expect(S).toBe(maxLen);
      const where = (slot: number): string => `${b.docIds[Math.floor(slot / S)]}:${b.windowStart[Math.floor(slot / S)]! + (slot % S)}`;
      // The target's own token says which sentence of its document it is.
      const pairs = nextSentencePairs(b);
      pairs.target.forEach((slot) => {
        expect(b.tokens[slot * 2]).toBe(4 + Number(where(slot).split(':')[1]));
        targets.push(where(slot));
      });
      const st = stopTargets(b);
      st.slots.forEach((slot, k) => stops.push(`${where(slot)}=${st.labels[k]}`));
    }
    const expected = docs.flatMap((d) => Array.from({ length: Math.max(0, d.sentences.length - 1) }, (_, i) => `${d.id}:${i + 1}`));
    expect(targets.sort()).toEqual(expected.sort());
    // CONTINUE (1) at every sentence but the last, END (0) at the last, each once.
    const expectedStops = docs.flatMap((d) => Array.from({ length: d.sentences.length }, (_, i) => `${d.id}:${i}=${i + 1 < d.sentences.length ? 1 : 0}`));
    expect(stops.sort()).toEqual(expectedStops.sort());
  });
});

describe('variational SentenceVAE validation', () => {
  test('reports the negative ELBO (KL at full weight) beside the annealed objective', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exp-elbo-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(
      file,
      tinyPipelineYaml({
        name: 'elbo',
        runsDir: join(dir, 'runs'),
        cacheDir: join(dir, 'data'),
        source: writeSamplesJsonl(dir),
        split: '{validation: 0.3, test: 0.1}',
        stages: `  tok: {kind: tokenizer}
  svae:
    kind: svae
    inputs: {tokenizer: tok}
    model: {dModel: 16, variational: true, kl: {annealSteps: 1000}, encoder: {layers: 1, heads: 2}, decoder: {layers: 1, heads: 2}}
    train: {steps: 4, batchSize: 2, warmupSteps: 1, evalEvery: 2, checkpointEvery: 4, evalBatches: 2}
    evalSentences: 4
`,
      }),
    );
    const results = await executePipeline(loadPipeline(file, STAGES).config, stageRegistry(), { overrides: [], cacheDir: join(dir, 'cache'), log: () => {} });
    const runDir = results.find((r) => r.name === 'svae')!.artifact.runDir!;
    const m = await readMetrics(runDir, { names: ['val/loss', 'val/neg_elbo', 'val/kl'] });
    const loss = Array.from(m.series['val/loss']!.value);
    const elbo = Array.from(m.series['val/neg_elbo']!.value);
    expect(Array.from(m.series['val/neg_elbo']!.step)).toEqual([2, 4]);
    // At KL weight <= 0.004 the objective hardly counts the KL; the ELBO counts all of it.
    elbo.forEach((e, i) => expect(e).toBeGreaterThan(loss[i]!));
    const summary = await readSummary(runDir);
    expect(summary?.eval?.['val_neg_elbo']).toBe(elbo[1]);
    // The KL per sentence, as the training loss reports it (train/kl), and its last value in the summary.
    const kl = Array.from(m.series['val/kl']!.value);
    expect(kl.every((k) => k > 0)).toBe(true);
    expect(summary?.eval?.['val_kl']).toBe(kl[1]);
  }, 120_000);
});
