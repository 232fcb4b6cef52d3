import { describe, it } from 'vitest';
import { conformanceCases, runConformanceCase } from './conformance.js';
import { webgpuAvailability } from './webgpu.js';

describe('wasm conforms to cpu', () => {
  for (const c of conformanceCases) it(c.name, () => runConformanceCase(c, 'wasm'));
});

const webgpu = await webgpuAvailability();
const where = webgpu.ok ? `on ${webgpu.device.description || webgpu.device.device}` : `skipped: ${webgpu.reason}`;
describe.skipIf(!webgpu.ok)(`webgpu conforms to cpu (${where})`, () => {
  for (const c of conformanceCases) it(c.name, () => runConformanceCase(c, 'webgpu'), 60_000);
});
