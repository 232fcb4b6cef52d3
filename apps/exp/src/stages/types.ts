/**
 * The contract between the pipeline runner and the model stages.
 *
 * A pipeline config names stages; each stage has a `kind` (which adapter runs it), `inputs`
 * (named slots pointing at earlier stages) and its own options, validated by the adapter's
 * zod schema. The runner executes stages in dependency order; each stage turns its config and
 * its inputs' artifacts into one new artifact (files + JSON metadata). An artifact is cached
 * under its content hash: sha256 of (kind, the stage's own config, the pipeline fields every
 * stage depends on, its inputs' hashes, the code version of the packages it runs). A stage
 * whose hash is unchanged is not run again: its cached artifact is reused.
 */
import type { HeadChoices } from '@sentencelab/concept-heads';
import type { Scorer, SentenceKvModel, TokenKvModel } from '@sentencelab/metrics';
import type { RunWriter } from '@sentencelab/runs';
import { backendConfigSchema, type GpuOptions } from '@sentencelab/tensor';
import { z } from 'zod';
import type { Progress } from '../train/progress.js';

/** The concept-head stage kinds (they predict sentence vectors; ./lcm.ts). */
export const CONCEPT_HEAD_KINDS = ['lcm-mse', 'lcm-diffusion', 'lcm-energy'] as const;

/** Whether a stage kind is a concept head's (one of {@link CONCEPT_HEAD_KINDS}). */
export function isConceptHeadKind(kind: string | undefined): boolean {
  return (CONCEPT_HEAD_KINDS as readonly (string | undefined)[]).includes(kind);
}

/** Every stage kind the runner knows, in the order a pipeline usually runs them. */
export const STAGE_KINDS = ['tokenizer', 'svae', 'token-lm', 'sllm', ...CONCEPT_HEAD_KINDS, 'eval', 'bench'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];

/** Which earlier stages may fill one input slot of a stage. */
export interface InputSlot {
  /** Kinds accepted in this slot. */
  kinds: readonly StageKind[];
  /** `many`: the slot takes a list of stage names (e.g. the models an eval stage compares). */
  many?: boolean;
  /** An optional slot may be left out (e.g. an SLLM initialised from a trained SVAE or not). */
  optional?: boolean;
  /**
   * The stage reads only this input's record (a FLOP budget to match), not its model or data:
   * what it cost is not part of this stage's cost (`meta.compute`), though it runs first.
   */
  recordOnly?: boolean;
  description: string;
}

/**
 * What a finished stage leaves behind. Stored as `artifact.json` in the artifact folder
 * (`<cacheDir>/<hash>/`), next to the files it names.
 */
export interface Artifact {
  /** Stage name in the pipeline that produced it (for messages; reuse is by hash, not name). */
  stage: string;
  kind: StageKind;
  /** Content hash of (kind, config, shared pipeline fields, inputs' hashes, code version). */
  hash: string;
  /** Absolute folder holding the files below. */
  dir: string;
  /** Named files, relative to `dir`: e.g. `{ checkpoint: 'model.safetensors', tokenizer: 'tokenizer.json' }`. */
  files: Record<string, string>;
  /** Run folder the stage trained in (training stages), so reports can point at its curves. */
  runDir?: string;
  /** JSON metadata the next stages and the comparison table need: model config, params, eval results. */
  meta: Record<string, unknown>;
  /** ISO time the artifact was completed. */
  createdAt: string;
}

/** What `Stage.run` returns; the runner adds the identity fields and writes `artifact.json`. */
export type StageOutput = Pick<Artifact, 'files' | 'meta'>;

/** Fields of the pipeline config every stage sees (and whose change invalidates every stage). */
export interface PipelineShared {
  name: string;
  seed: number;
  backend: Backend;
  runsDir: string;
  data: unknown;
}

/** Everything a stage's `run` gets. */
export interface StageContext<C> {
  /** Stage name in the pipeline (`stages.<name>`). */
  name: string;
  /** This stage's own validated config (without `kind` and `inputs`). */
  config: C;
  /** The pipeline fields every stage shares: experiment name, seed, backend, runs dir, data. */
  pipeline: PipelineShared;
  /** The artifacts of the stages named in `inputs`, by slot (a list for `many` slots). */
  inputs: Record<string, Artifact | Artifact[]>;
  /** This stage's content hash. */
  hash: string;
  /**
   * Empty folder to write the artifact's files into. The runner renames it into the cache only
   * when `run` returns, so a crashed or interrupted stage never leaves a half artifact behind.
   */
  outDir: string;
  /** Per-stage seed derived from the pipeline seed and the stage name (stable across runs). */
  seed: number;
  /**
   * The run folder of a training stage (`trains: true`), created (or reopened for resume) by
   * the runner with the resolved config, overrides and meta. The runner marks it done when
   * `run` returns and failed when it throws; the training loop marks it interrupted on Ctrl-C.
   */
  run: RunWriter | undefined;
  /** True when `run` was reopened: continue from its latest checkpoint. */
  resume: boolean;
  /** Aborted on SIGINT: training stages checkpoint and return an interrupted status. */
  signal: AbortSignal;
  /** One line for the user (the runner prefixes the stage name). */
  log(message: string): void;
  /** Where training reports step, loss and tokens/s (default: a bar or lines on stderr). */
  progress?: (label: string) => Progress;
  /** The stage kinds this pipeline runs with (to reach another kind's scorer or generator). */
  stages: ReadonlyMap<string, AnyStage>;
}

/** One stage kind: its config schema, its input slots and how to run it. */
export interface Stage<S extends z.ZodType = z.ZodType> {
  kind: StageKind;
  description: string;
  /** The stage's own options (a strict object; every field defaulted and described). */
  schema: S;
  /** Named input slots, filled in the config by `inputs: { <slot>: <stageName> | [<stageName>...] }`. */
  inputs: Record<string, InputSlot>;
  /** Workspace packages whose source is part of the code version in the hash. */
  packages: readonly string[];
  /** True when the stage trains (and therefore gets a run folder). */
  trains: boolean;
  /**
   * A training stage's options that only its evaluation reads (dotted paths into its config,
   * e.g. `model.sampling`): a config that differs from a finished run's only there takes that
   * run's trained model (`forkRun`: its checkpoint, metrics and cost) and evaluates it again
   * instead of training the same model twice. The stage's hash still covers them: its results differ.
   * Stages trained on its model fork too (their training hashes build on its training hash).
   */
  evalOnly?: readonly string[];
  /**
   * What the stage needs of its inputs' configs (beyond their kinds), checked when the pipeline
   * is planned, before any stage runs: a problem is returned as the key path inside this stage's
   * section and the reason (the plan's error names the file and `stages.<name>.<keyPath>`).
   * `inputs`: slot -> the input stages' sections as written (their `model` not yet filled in);
   * `names`: slot -> the input stages' names, as the section's `inputs` gives them.
   */
  checkInputs?(options: z.output<S>, inputs: Record<string, StageSection | StageSection[]>, names: Record<string, string | string[]>): { keyPath: string; reason: string } | undefined;
  run(ctx: StageContext<z.output<S>>): Promise<StageOutput>;
  /**
   * Whether a cached artifact can still be used (e.g. the prepared dataset it points to still
   * exists); an invalid one is recomputed. Default: always valid.
   */
  isUsable?(artifact: Artifact): boolean;
  /**
   * Text models (token-lm, sllm, lcm-*) stream a continuation of `prompt` from their artifact:
   * chunks of text as they are produced (tokens or whole sentences). Used by `pnpm exp generate`.
   */
  generate?(artifact: Artifact, prompt: string, options: GenerateOptions): AsyncIterable<string>;
  /**
   * Sentence-level models with a SentenceVAE (sllm, lcm-mse, lcm-energy): SentenceLens over the first
   * sentences of `text` (as many as the model reads), decoded greedily to `maxTokens` a sentence.
   * Used by `pnpm exp lens`.
   */
  lens?(artifact: Artifact, text: string, options: { maxTokens: number }): Promise<LensView>;
  /**
   * Token predictors (token-lm, sllm): the trained model as a scorer of documents (per-sentence
   * log-probabilities of sentences 2..N, each with its EOS), for the eval stage's perplexity
   * over identical tokens (`@sentencelab/metrics`). The caller disposes it.
   */
  scorer?(artifact: Artifact): Promise<EvalScorer>;
  /**
   * Generating models (token-lm, sllm) for the bench stage: batch-1 generation after a prompt
   * of whole sentences (token ids per sentence), and the model's KV-cache size. The caller disposes it.
   */
  generator?(artifact: Artifact, options: BenchOptions): Promise<BenchModel>;
}

/** What `Stage.scorer` returns: a scorer, what bounds its context, its KV-cache size. */
export interface EvalScorer extends Scorer {
  /** The token LM: positions per row (maxLen); the SLLM: sentence positions (decoder.maxLen). */
  contextLimit: { positions?: number; sentences?: number };
  kv: TokenKvModel | SentenceKvModel;
  /**
   * One sampled next sentence (temperature 1) after exactly `context`: its first `maxTokens`
   * tokens, EOS excluded (shorter when it ended). `documentStart`: the context starts its document.
   */
  sampleNext(context: readonly ArrayLike<number>[], options: { documentStart: boolean; maxTokens: number; seed: number }): Promise<number[]>;
  dispose(): void;
}

/** Options of one bench generation: the token budget it spends exactly, and a cache-bytes observer. */
export interface BenchGenerateOptions {
  /** Decoder steps in all (tokens, each sentence's EOS or cut step included). */
  maxTokens: number;
  onCacheBytes?: (bytes: number) => void;
}

/** What `Stage.generator` returns. */
export interface BenchModel {
  generate(prompt: readonly ArrayLike<number>[], options: BenchGenerateOptions): AsyncIterable<number[]>;
  /** Positions of the longest prompt stream (token LM) or sentence sequence (SLLM) before the cache slides. */
  capacity: { positions?: number; sentences?: number };
  kv: TokenKvModel | SentenceKvModel;
  dispose(): void;
}

/** Options of the bench stage. */
export interface BenchOptions {
  /** Tokens generated per prompt (the same budget for every model). */
  tokens: number;
  /** Prompt sentences given as context. */
  contextSentences: number;
  /** Test documents used as prompts. */
  prompts: number;
}

/** What `Stage.lens` returns: latent-lm's `LensGrid` as text. */
export interface LensView {
  /** The sentences read (positions); `droppedSentences` more of the text did not fit. */
  sentences: string[];
  droppedSentences: number;
  /** The true next sentence of each position; null at the last. */
  targets: (string | null)[];
  /** cells[layer][position]; the last layer is what generation decodes. */
  cells: { text: string; cosine: number | null; f1: number | null }[][];
}

/**
 * Options of `pnpm exp generate`, passed to `Stage.generate`: a concept head's choices
 * (`HeadChoices`: feedback, the diffusion sampler's) and what every model reads.
 */
export interface GenerateOptions extends Omit<HeadChoices, 'maxSentences' | 'seed'> {
  /** Most new sentences (sentence-level models) or sentences' worth of tokens (token LM: stops after this many EOS). */
  maxSentences: number;
  /** Most new tokens per sentence (token LM: maxSentences times this in all). */
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** Nucleus sampling mass (1 = off). */
  topP: number;
  seed: number;
}

/** A stage kind whose schema type is erased, for registries. */
export type AnyStage = Stage<z.ZodType>;

export const BACKENDS = ['auto', 'native', 'wasm', 'cpu', 'webgpu', 'tensorflow'] as const;
export type Backend = (typeof BACKENDS)[number];

/** `inputs:` in a stage section: slot -> stage name or list of stage names. */
export const inputsSchema = z
  .record(z.string(), z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]))
  .default({})
  .describe('input slots -> names of earlier stages whose artifacts this stage uses');

/**
 * Builds the whole pipeline config schema from the data section's schema and the stage
 * registry. Each stage section is `{ kind, inputs, ...options }`, strict, chosen by `kind`.
 * Input references are checked after parsing (see `validatePipeline` in `pipeline/plan.ts`),
 * because they relate sections to each other.
 */
export function pipelineSchema<D extends z.ZodType>(data: D, stages: readonly AnyStage[]) {
  const sections = stages.map((s) => {
    const options = s.schema instanceof z.ZodObject ? s.schema.shape : {};
    // Spreading the shape drops the stage schema's own cross-field refinements: run them here.
    return z.strictObject({ kind: z.literal(s.kind), inputs: inputsSchema, ...options }).superRefine((section, ctx) => {
      const { kind: _kind, inputs: _inputs, ...own } = section;
      const r = s.schema.safeParse(own);
      if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: issue.path as PropertyKey[], message: issue.message });
    });
  });
  const [first, ...rest] = sections;
  if (first === undefined) throw new Error('pipelineSchema: the stage registry is empty');
  return z.strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][\w.-]*$/, 'letters, digits, ".", "-" and "_" only')
      .describe('experiment name: runs go to <runsDir>/<name>/'),
    seed: z.number().int().nonnegative().default(0).describe('drives model init, data order and sampling in every stage'),
    backend: z.enum(BACKENDS).default('auto').describe('compute backend for every stage'),
    gpu: backendConfigSchema.shape.gpu,
    runsDir: z.string().default('runs').describe('root of the run folders (relative to the working directory)'),
    data: data,
    stages: z
      .record(z.string().regex(/^[A-Za-z][\w-]*$/, 'a stage name is a letter then letters, digits, "-" or "_"'), z.discriminatedUnion('kind', [first, ...rest]))
      .refine((s) => Object.keys(s).length > 0, 'at least one stage')
      .describe('stage name -> { kind, inputs, ...options }; run in dependency order'),
  });
}

/** The parsed form of one stage section: the common fields plus the kind's own options. */
export interface StageSection {
  kind: StageKind;
  inputs: Record<string, string | string[]>;
  [option: string]: unknown;
}

/** The parsed pipeline config (the data section typed by the data package's schema). */
export interface PipelineConfig extends PipelineShared {
  /** Adapter choice for `backend: webgpu`. */
  gpu?: GpuOptions | undefined;
  stages: Record<string, StageSection>;
}
