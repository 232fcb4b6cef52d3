/**
 * Prepares one text file as a single document (`unit: file`) with the train split only, then
 * prints its sentence count: the child a memory test runs under a heap limit.
 * Usage: tsx prepare-child.ts <file> <cacheDir>
 */
import { dataConfig } from '../config.js';
import { prepareDataset } from '../prepare.js';

const [file, cacheDir] = process.argv.slice(2);
if (file === undefined || cacheDir === undefined) throw new Error('usage: prepare-child.ts <file> <cacheDir>');
const config = dataConfig({
  source: { type: 'text', paths: [file], unit: 'file' },
  tokenizer: { vocabSize: 300 },
  split: { validation: 0, test: 0 },
  output: { cacheDir },
});
const result = await prepareDataset(config, { workspaceRoot: cacheDir });
console.log(JSON.stringify({ sentences: result.stats.sentences, maxRSSMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
