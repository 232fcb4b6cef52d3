/**
 * A byte-level BPE tokenizer.json read with no native code: the encoder and decoder that
 * `BpeTokenizer` runs (it adds HF `tokenizers`' validation and training on top), usable in a
 * browser. Encoding follows HF's rules exactly (tests compare it with the native tokenizer on
 * real text); special-token strings in ordinary text are encoded as plain text.
 */
import { ByteLevelBpe, fromByteLevel, type ByteLevelOptions } from './byte-level.js';
import type { SpecialTokens } from './config.js';
import { DataError } from './errors.js';

const lossy = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

export const DEFAULT_SPECIALS: SpecialTokens = { pad: '<pad>', bos: '<bos>', eos: '<eos>', unk: '<unk>' };

export interface TokenizerJson {
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
  normalizer?: unknown;
  pre_tokenizer?: { type?: string; add_prefix_space?: boolean; use_regex?: boolean } | null;
  model?: { type?: string; vocab?: Record<string, number>; merges?: Array<string | [string, string]> };
}

/** Reads merges in either HF format: `"a b"` strings (older) or `["a", "b"]` pairs. */
export function parseMerges(merges: Array<string | [string, string]>, origin: string): Array<[string, string]> {
  return merges.map((m, i) => {
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
    if (typeof m === 'string') {
      const sp = m.indexOf(' ', 1);
      if (sp > 0) return [m.slice(0, sp), m.slice(sp + 1)];
    }
    throw new DataError(`${origin}: model.merges[${i}] is not a merge pair`, origin);
  });
}

/** Parses tokenizer.json text and checks it is a byte-level BPE with no normalizer; `origin` names it in errors. */
export function parseTokenizerJson(json: string, origin: string): TokenizerJson & { model: NonNullable<TokenizerJson['model']> } {
  let parsed: TokenizerJson;
  try {
    parsed = JSON.parse(json) as TokenizerJson;
  } catch (e) {
    throw new DataError(`${origin}: not valid JSON (${(e as Error).message})`, origin);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.model !== 'object' || parsed.model === null) {
    throw new DataError(`${origin}: not a tokenizer.json (no "model" object)`, origin);
  }
  if (parsed.model.type !== 'BPE') {
    throw new DataError(`${origin}: only byte-level BPE tokenizers are supported (model.type is ${JSON.stringify(parsed.model.type)})`, origin);
  }
  if (parsed.pre_tokenizer?.type !== 'ByteLevel') {
    throw new DataError(`${origin}: only byte-level BPE tokenizers are supported (pre_tokenizer.type is ${JSON.stringify(parsed.pre_tokenizer?.type)})`, origin);
  }
  if (parsed.normalizer !== null && parsed.normalizer !== undefined) {
    throw new DataError(`${origin}: tokenizers with a normalizer are not supported (text must round-trip exactly)`, origin);
  }
  return parsed as TokenizerJson & { model: NonNullable<TokenizerJson['model']> };
}

/**
 * Encodes and decodes with a byte-level BPE tokenizer.json, synchronously, in plain
 * TypeScript, with the special-token ids a dataset needs.
 */
export class ByteLevelTokenizer {
  /** Vocabulary size with the added tokens (HF's `getVocabSize(true)`). */
  readonly vocabSize: number;
  readonly pad: number;
  readonly bos: number;
  readonly eos: number;
  readonly unk: number;
  private readonly bpe: ByteLevelBpe;
  private readonly addedTokens: string[];
  private readonly addedById = new Map<number, { content: string; special: boolean }>();
  private readonly pieceById: string[] = [];

  protected constructor(parsed: TokenizerJson & { model: NonNullable<TokenizerJson['model']> }, specials: SpecialTokens, origin: string) {
    const model = parsed.model;
    const added = parsed.added_tokens ?? [];
    const vocab = new Map(Object.entries(model.vocab ?? {}));
    for (const [piece, id] of vocab) this.pieceById[id] = piece;
    for (const t of added) this.addedById.set(t.id, { content: t.content, special: t.special ?? false });
    this.vocabSize = new Set([...vocab.values(), ...this.addedById.keys()]).size;
    const addedByContent = new Map(added.map((t) => [t.content, t.id]));
    const idOf = (role: keyof SpecialTokens): number => {
      const content = specials[role];
      const id = addedByContent.get(content) ?? vocab.get(content);
      if (id === undefined) {
        throw new DataError(`${origin}: special token ${role} "${content}" is not in the vocabulary (set tokenizer.specials.${role})`, origin);
      }
      return id;
    };
    this.pad = idOf('pad');
    this.bos = idOf('bos');
    this.eos = idOf('eos');
    this.unk = idOf('unk');
    this.addedTokens = added.map((t) => t.content).filter((c) => c.length > 0);
    const single = this.addedTokens.find((c) => Array.from(c).length < 2);
    if (single !== undefined) {
      throw new DataError(`${origin}: added token ${JSON.stringify(single)} is a single character, so text holding it could not be encoded as text`, origin);
    }
    const pre = parsed.pre_tokenizer!;
    const options: ByteLevelOptions = { addPrefixSpace: pre.add_prefix_space ?? false, useRegex: pre.use_regex ?? true };
    this.bpe = new ByteLevelBpe(vocab, parseMerges(model.merges ?? [], origin), options);
  }

  /** A tokenizer from tokenizer.json text; `origin` (a file name, a URL) names it in errors. */
  static parse(json: string, specials: SpecialTokens = DEFAULT_SPECIALS, origin = 'tokenizer.json'): ByteLevelTokenizer {
    return new ByteLevelTokenizer(parseTokenizerJson(json, origin), specials, origin);
  }

  /**
   * Cuts text so no piece contains an added token: each occurrence is cut after its first
   * character. Pieces are encoded separately, so the added token's characters stay plain text.
   */
  private pieces(text: string): string[] {
    if (!this.addedTokens.some((t) => text.includes(t))) return [text];
    const out: string[] = [];
    let from = 0;
    let searchFrom = 0;
    for (;;) {
      let at = -1;
      let len = 0;
      for (const t of this.addedTokens) {
        const i = text.indexOf(t, searchFrom);
        if (i >= 0 && (at < 0 || i < at)) {
          at = i;
          len = t.codePointAt(0)! > 0xffff ? 2 : 1;
        }
      }
      if (at < 0) break;
      const cut = at + len;
      out.push(text.slice(from, cut));
      from = cut;
      searchFrom = cut;
    }
    out.push(text.slice(from));
    return out.filter((p) => p.length > 0);
  }

  /** Token ids of `text` (no BOS/EOS added), synchronously. */
  encodeSync(text: string): number[] {
    const pieces = this.pieces(text);
    if (pieces.length === 1) return this.bpe.encode(pieces[0]!);
    return pieces.flatMap((p) => this.bpe.encode(p));
  }

  /** Token ids of `text` (no BOS/EOS added). */
  async encode(text: string): Promise<number[]> {
    return this.encodeSync(text);
  }

  /** Token ids of many texts. */
  async encodeBatch(texts: readonly string[]): Promise<number[][]> {
    return texts.map((t) => this.encodeSync(t));
  }

  /**
   * Text of token ids, synchronously: byte-level pieces back to bytes, invalid UTF-8 (ids that
   * cut a character) as U+FFFD; special tokens written out unless `skipSpecial`.
   */
  decodeSync(ids: ArrayLike<number>, options: { skipSpecial?: boolean } = {}): string {
    let out = '';
    let bytes = '';
    const flush = (): void => {
      if (bytes.length > 0) out += lossy.decode(fromByteLevel(bytes));
      bytes = '';
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const added = this.addedById.get(id);
      if (added !== undefined) {
        flush();
        if (!(options.skipSpecial && added.special)) out += added.content;
        continue;
      }
      const piece = this.pieceById[id];
      if (piece === undefined) throw new DataError(`decode: id ${id} is not in the vocabulary (size ${this.vocabSize})`);
      bytes += piece;
    }
    flush();
    return out;
  }

  /** Text of token ids; special tokens are written out unless `skipSpecial`. */
  async decode(ids: ArrayLike<number>, options: { skipSpecial?: boolean } = {}): Promise<string> {
    return this.decodeSync(ids, options);
  }

  /** Number of tokens `text` encodes to, synchronously (segment's `lengthOf`). */
  countTokens(text: string): number {
    let n = 0;
    for (const p of this.pieces(text)) n += this.bpe.count(p);
    return n;
  }

  /** The vocabulary entry of one id (byte-level characters, or a special token), or null. */
  idToToken(id: number): string | null {
    return this.addedById.get(id)?.content ?? this.pieceById[id] ?? null;
  }
}
