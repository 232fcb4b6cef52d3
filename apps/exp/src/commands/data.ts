/**
 * `pnpm exp data ...`: dataset preparation.
 *   prepare <config> [key.path=value ...]   read the corpus, train/load the tokenizer, segment,
 *                                           tokenize and write Arrow splits into the cache
 */
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { z } from 'zod';
import { dataConfigSchema, formatStats, prepareDataset, type DataConfig, type PrepareProgress } from '@sentencelab/data';
import { loadConfig } from '../config/load.js';

/**
 * A data config file holds the data section either at the top level or under `data:` (so a
 * pipeline config can be prepared directly).
 */
export function loadDataConfig(file: string, overrides: string[]): DataConfig {
  const { value } = peekTopLevel(file);
  if (value) {
    const schema = z.looseObject({ data: dataConfigSchema.default(dataConfigSchema.parse({})) });
    return loadConfig(file, schema, overrides).config.data;
  }
  return loadConfig(file, dataConfigSchema, overrides).config;
}

function peekTopLevel(file: string): { value: boolean } {
  const { config } = loadConfig(file, z.looseObject({}), []);
  return { value: Object.hasOwn(config, 'data') };
}

function progressBar(quiet: boolean): { onProgress: (p: PrepareProgress) => void; stop: () => void } {
  if (quiet) return { onProgress: () => {}, stop: () => {} };
  const bar = new SingleBar(
    { format: '{stage} [{bar}] {value}/{total} {unit} | {duration_formatted}', hideCursor: true, etaBuffer: 50 },
    undefined,
  );
  let stage = '';
  let started = false;
  return {
    onProgress(p) {
      if (p.stage !== stage) {
        if (started) bar.stop();
        stage = p.stage;
        bar.start(p.total, p.done, { stage: p.stage.padEnd(10), unit: p.unit });
        started = true;
      } else {
        bar.setTotal(p.total);
        bar.update(p.done);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export function dataCommand(): Command {
  const data = new Command('data').description('prepare datasets: sources -> tokenizer -> segmented, tokenized Arrow splits');
  data
    .command('prepare')
    .description('prepare the dataset a config describes (cached by content: a re-run with the same inputs is instant)')
    .argument('<config>', 'YAML data config (the data section at the top level or under `data:`)')
    .argument('[overrides...]', 'key.path=value overrides, e.g. tokenizer.vocabSize=8192')
    .option('--force', 'rebuild even if the cache has this dataset', false)
    .option('--quiet', 'no progress bar', false)
    .action(async (file: string, overrides: string[], opts: { force: boolean; quiet: boolean }) => {
      const config = loadDataConfig(resolve(file), overrides);
      const t0 = performance.now();
      const bar = progressBar(opts.quiet || !process.stderr.isTTY);
      let result;
      try {
        result = await prepareDataset(config, { force: opts.force, onProgress: bar.onProgress });
      } finally {
        bar.stop();
      }
      const seconds = (performance.now() - t0) / 1000;
      console.log(formatStats(result.stats));
      console.log(`dataset: ${result.dir}${result.cached ? ' (from cache)' : ''}`);
      console.log(`elapsed: ${seconds.toFixed(1)} s`);
    });
  return data;
}
