export * from './config.js';
export * from './prepare.js';
export * from './stats.js';
