export {
  AtomicWriteError,
  fsyncDir,
  isTempFile,
  tempPathFor,
  writeAll,
  writeFileAtomic,
  writeJsonAtomic,
  type AtomicFs,
  type AtomicWriteOptions,
} from './atomic.js';
