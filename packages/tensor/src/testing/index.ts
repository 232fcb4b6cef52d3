export { expectNoLeak } from './leak.js';
export {
  conformanceCases, evaluateCase, lossWeights, runConformanceCase, runConformanceSuite,
  type CaseInput, type CaseResult, type ConformanceCase, type Tolerance,
} from './conformance.js';
export { webgpuAvailability, type WebgpuAvailability } from './webgpu.js';
export { withoutSyncReads } from './sync-reads.js';
export * as reference from './reference.js';
export { legacyAttentionLayout } from './legacy-layout.js';
