/**
 * `pnpm exp data ...`: dataset preparation.
 *   prepare <config> [key.path=value ...]   read the corpus, train/load the tokenizer, segment,
 *                                           tokenize and write Arrow splits into the cache
 */
import { resolve } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { z } from 'zod';
import { DataError, dataConfigSchema, formatStats, prepareDataset, type DataConfig, type PrepareProgress } from '@sentencelab/data';
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

/**
 * A cli-progress bar per stage on stderr. Tokenizer training draws its own progress (the native
 * library's), so that stage prints a line instead of a bar.
 */
function progressBar(enabled: boolean): { onProgress: (p: PrepareProgress) => void; stop: () => void } {
  if (!enabled) return { onProgress: () => {}, stop: () => {} };
  const bar = new SingleBar(
    { format: '{stage} [{bar}] {value}/{total} {unit} | {duration_formatted}', hideCursor: true, etaBuffer: 50, stream: process.stderr },
    Presets.shades_classic,
  );
  let stage = '';
  let running = false;
  let trainingSince = 0;
  const stop = (): void => {
    if (running) bar.stop();
    running = false;
  };
  return {
    onProgress(p) {
      if (p.stage === 'tokenizer') {
        stop();
        stage = p.stage;
        if (p.done === 0) {
          trainingSince = performance.now();
          process.stderr.write('tokenizer: training byte-level BPE...\n');
        } else {
          process.stderr.write(`tokenizer: trained in ${((performance.now() - trainingSince) / 1000).toFixed(1)} s\n`);
        }
        return;
      }
      if (p.stage !== stage || !running) {
        stop();
        stage = p.stage;
        bar.start(p.total, p.done, { stage: p.stage.padEnd(9), unit: p.unit });
        running = true;
      } else {
        bar.setTotal(p.total);
        bar.update(p.done);
      }
    },
    stop,
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
      const bar = progressBar(!opts.quiet && process.stderr.isTTY === true);
      const stageTimes = new Map<string, number>();
      let stage = '';
      let stageStart = t0;
      const onProgress = (p: PrepareProgress): void => {
        if (p.stage !== stage) {
          const now = performance.now();
          if (stage) stageTimes.set(stage, now - stageStart);
          stage = p.stage;
          stageStart = now;
        }
        bar.onProgress(p);
      };
      let result;
      try {
        result = await prepareDataset(config, { force: opts.force, onProgress, showTrainerProgress: !opts.quiet && process.stdout.isTTY === true });
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        bar.stop();
        console.error(`data error: ${e.message}`);
        process.exitCode = 1;
        return;
      } finally {
        bar.stop();
      }
      const end = performance.now();
      if (stage) stageTimes.set(stage, end - stageStart);
      console.log(formatStats(result.stats, { maxTokens: result.manifest.config.segment.maxTokens }));
      console.log(`dataset: ${result.dir}${result.cached ? ' (from cache)' : ''}`);
      const parts = [...stageTimes].map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`);
      console.log(`elapsed: ${((end - t0) / 1000).toFixed(1)} s${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`);
    });
  return data;
}
