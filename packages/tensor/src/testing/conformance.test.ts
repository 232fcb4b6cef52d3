import { describe, it } from 'vitest';
import { conformanceCases, runConformanceCase } from './conformance.js';

describe('wasm conforms to cpu', () => {
  for (const c of conformanceCases) it(c.name, () => runConformanceCase(c, 'wasm'));
});
