import type { SegmentConfig, SpecialTokens } from '@sentencelab/data/browser';

/**
 * The files of a run the report serves, by role: never by path. `svae`: the SentenceVAE a
 * concept head's vectors are decoded with (concept heads only).
 */
export const FILE_ROLES = ['checkpoint', 'tokenizer', 'svae'] as const;
export type FileRole = (typeof FILE_ROLES)[number];

/** Stage kinds the playground runs in the browser. */
export const PLAYGROUND_KINDS = ['token-lm', 'sllm', 'lcm-mse', 'lcm-diffusion', 'lcm-energy'] as const;
export type PlaygroundKind = (typeof PLAYGROUND_KINDS)[number];

/** Concept heads: they predict sentence vectors that their SentenceVAE decodes. */
export const HEAD_KINDS: readonly PlaygroundKind[] = ['lcm-mse', 'lcm-diffusion', 'lcm-energy'];

export interface PlaygroundFileInfo {
  /** The file's own name (for messages), e.g. model.safetensors. */
  name: string;
  bytes: number;
  sha256: string;
}

/** `/api/playground?run=<id>`: what the page needs to load a run's model. */
export interface PlaygroundInfo {
  run: string;
  kind: PlaygroundKind;
  /** `svae` for concept heads only. */
  files: Record<'checkpoint' | 'tokenizer', PlaygroundFileInfo> & { svae?: PlaygroundFileInfo };
  /** The dataset's segmentation: prompts are cut into sentences as its documents were. */
  segment: SegmentConfig;
  specials: SpecialTokens;
}

/** The response header carrying a served file's sha256 (hex). */
export const SHA256_HEADER = 'X-Content-SHA256';
