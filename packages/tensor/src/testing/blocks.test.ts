/**
 * Each conformance case against its float64 reference: forward values, and gradients
 * (parameters and float inputs) against central finite differences of the reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { Rng } from '../rng.js';
import { conformanceCases, evaluateCase, lossWeights } from './conformance.js';
import { arr, type Arr, type Params } from './reference.js';

/** Elements per tensor checked by finite differences (all when smaller). */
const FD_SAMPLES = 12;

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`blocks vs float64 reference on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend, { log: false });
    });

    for (const c of conformanceCases) {
      it(c.name, async () => {
        const result = await evaluateCase(c);
        // Rebuild with the same seed to read the initial parameters as float64.
        const built = c.build(new Rng(0));
        const params: Params = new Map(await Promise.all(built.module.namedParameters().map(async ([n, v]) => [n, arr(v.shape, await v.data())] as const)));
        built.module.dispose();
        const inputs: Record<string, Arr> = Object.fromEntries(Object.entries(built.inputs).map(([n, i]) => [n, arr(i.shape, i.values)]));
        const ref = built.reference.bind(built);
        const r = lossWeights(result.output.length);
        const loss = () => ref(params, inputs).data.reduce((s, v, i) => s + v * r[i]!, 0);

        const expected = ref(params, inputs);
        expect(result.output.length).toBe(expected.data.length);
        result.output.forEach((v, i) => {
          expect(Math.abs(v - expected.data[i]!), `output[${i}]: ${v} vs reference ${expected.data[i]}`).toBeLessThan(1e-4 + 1e-4 * Math.abs(expected.data[i]!));
        });

        const targets: Array<[string, Arr]> = [...params, ...Object.entries(inputs).filter(([n]) => built.inputs[n]!.dtype === 'float32').map(([n, a]) => [`input.${n}`, a] as [string, Arr])];
        const pick = new Rng(1);
        for (const [name, a] of targets) {
          const g = result.grads.get(name);
          expect(g, `gradient for ${name}`).toBeDefined();
          const idx = a.data.length <= FD_SAMPLES ? [...a.data.keys()] : Array.from({ length: FD_SAMPLES }, () => pick.int(a.data.length));
          for (const i of idx) {
            const orig = a.data[i]!;
            const eps = 1e-5;
            a.data[i] = orig + eps;
            const up = loss();
            a.data[i] = orig - eps;
            const down = loss();
            a.data[i] = orig;
            const numeric = (up - down) / (2 * eps);
            expect(Math.abs(g![i]! - numeric), `${name}[${i}]: analytic ${g![i]} numeric ${numeric}`).toBeLessThan(2e-4 + 2e-3 * Math.abs(numeric));
          }
        }
        expect(tf.memory().numTensors).toBeLessThan(1000);
      });
    }
  });
}
