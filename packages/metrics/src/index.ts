export * from './perplexity.js';
export * from './generation.js';
export * from './memory.js';
export * from './throughput.js';
export * from './params.js';
export * from './bootstrap.js';
export * from './brier.js';
