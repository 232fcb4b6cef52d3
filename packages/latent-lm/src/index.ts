export * from './config.js';
export * from './document.js';
export * from './latent-decoder.js';
export * from './sllm.js';
export * from './token-lm.js';
export * from './lens.js';
