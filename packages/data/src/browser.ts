// The browser-safe part of the package (no native code, no file system): a tokenizer.json
// reader and the segmentation a dataset applies to text, for models run in a web page.
export { ByteLevelTokenizer, DEFAULT_SPECIALS } from './tokenizer-json.js';
export { eachUnit, segmentUnits, type TextUnit } from './units.js';
export { DataError } from './errors.js';
export type { SegmentConfig, SpecialTokens } from './config.js';
