import type { SourceConfig } from '../config.js';
import { brownSource } from './brown.js';
import { jsonlSource } from './jsonl.js';
import { sotuSource } from './sotu.js';
import { textSource } from './text.js';
import type { CorpusSource } from './types.js';

export type { CorpusSource, SourceDocument } from './types.js';
export { brownCatalog, brownSource, brownText, detokenize } from './brown.js';
export { jsonlSource } from './jsonl.js';
export { sotuCatalog, sotuSource, type SotuAddress } from './sotu.js';
export { paragraphs, textSource } from './text.js';
export { invalidUtf8At, readUtf8File, readUtf8Lines } from './read.js';

/** Opens the source a config names; relative paths are resolved against `baseDir`. */
export async function openSource(config: SourceConfig, baseDir: string): Promise<CorpusSource> {
  switch (config.type) {
    case 'brown':
      return brownSource(config);
    case 'sotu':
      return sotuSource(config);
    case 'text':
      return textSource(config, baseDir);
    case 'jsonl':
      return jsonlSource(config, baseDir);
  }
}
