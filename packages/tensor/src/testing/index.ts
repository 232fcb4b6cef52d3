export { expectNoLeak } from './leak.js';
