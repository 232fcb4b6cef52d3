import { initBackend } from '@sentencelab/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { BagOfWordsCodec } from './bag-of-words-codec.js';
import { BaseLcm } from './base-lcm.js';
import { cosine } from './evaluation.js';
import type { GeneratedSentence } from './model.js';
import { fixture, randomizeParameters, tinyConfig, type Fixture } from './testing/fixture.js';

let f: Fixture;
beforeAll(async () => {
  await initBackend('cpu', { log: false });
  f = await fixture();
});

async function collect(it: AsyncGenerator<GeneratedSentence>): Promise<GeneratedSentence[]> {
  const out: GeneratedSentence[] = [];
  for await (const s of it) out.push(s);
  return out;
}

describe('generation (shared by every head)', () => {
  it('stops at the end-of-text threshold or after maxSentences, and reports endCosine', async () => {
    const model = new BaseLcm({ ...tinyConfig, layers: 1 }, f.space);
    randomizeParameters(model, 2);
    const prompt = ['The cat sat on the mat.'];
    expect(await collect(model.generate(f.codec, prompt, { stopThreshold: -1 }))).toEqual([]);
    const four = await collect(model.generate(f.codec, prompt, { stopThreshold: 1.5, maxSentences: 4 }));
    expect(four.map((s) => s.index)).toEqual([0, 1, 2, 3]);
    for (const s of four) expect(s.endCosine).toBeCloseTo(cosine(s.vector, f.space.endVector), 10);
    model.dispose();
  });

  it('feeds back the predicted vector, or with feedback "reencode" the encoding of its text', async () => {
    const model = new BaseLcm({ ...tinyConfig, layers: 1 }, f.space);
    randomizeParameters(model, 3);
    const prompt = ['Rain fell over the old city.'];
    const [p0] = await f.codec.encode(prompt);
    for (const feedback of ['vector', 'reencode'] as const) {
      const got = await collect(model.generate(f.codec, prompt, { stopThreshold: 1.5, maxSentences: 2, feedback }));
      const fed = feedback === 'vector' ? got[0]!.vector : (await f.codec.encode([got[0]!.text]))[0]!;
      expect(Array.from(got[1]!.vector)).toEqual(Array.from(await model.predictNext([p0!, fed])));
    }
    model.dispose();
  });

  it('rejects an empty prompt and a codec of the wrong dimension', async () => {
    const model = new BaseLcm({ ...tinyConfig, layers: 1 }, f.space);
    await expect(collect(model.generate(f.codec, []))).rejects.toThrow(/at least one prompt sentence/);
    const wide = new BagOfWordsCodec({ dim: 8, bank: ['a.'], seed: 1 });
    await expect(collect(model.generate(wide, ['a.']))).rejects.toThrow(/codec.dim is 8 but the model was built for dEmb 16/);
    model.dispose();
  });
});
