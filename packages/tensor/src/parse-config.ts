import type { z } from 'zod';

/**
 * Parses a model's config, failing with every bad key path and reason in one message
 * (`invalid <what> config: decoder.heads: ...; dModel: ...`), the way every model constructor
 * of sentencelab reports a bad config.
 */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`);
  throw new Error(`invalid ${what} config: ${lines.join('; ')}`);
}
