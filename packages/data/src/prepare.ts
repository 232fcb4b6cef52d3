import type { DataConfig } from './config.js';
import type { DatasetStats } from './stats.js';

export interface PrepareProgress {
  stage: string;
  done: number;
  total: number;
  unit: string;
}

export interface PrepareOptions {
  force?: boolean;
  onProgress?: (p: PrepareProgress) => void;
  workspaceRoot?: string;
}

export interface PrepareResult {
  dir: string;
  cached: boolean;
  stats: DatasetStats;
}

export async function prepareDataset(config: DataConfig, options: PrepareOptions = {}): Promise<PrepareResult> {
  void config;
  void options;
  throw new Error('data prepare: the preparation pipeline lands in the next commit');
}
