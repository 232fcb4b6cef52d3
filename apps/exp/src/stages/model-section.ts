import { z } from 'zod';

/**
 * The `model:` section of a stage: the model package's own schema, minus the fields the
 * pipeline fills in (vocabulary size and special ids from the tokenizer, sentence length from
 * the data section, the seed). Validated at config time with the package's schema (so unknown
 * keys and bad values fail before any work, under `stages.<name>.model.<key>`); setting a
 * derived field is an error saying where it comes from.
 */
export function modelSection(schema: z.ZodType, derived: Readonly<Record<string, string>>) {
  return z
    .record(z.string(), z.unknown())
    .default({})
    .superRefine((value, ctx) => {
      for (const [key, from] of Object.entries(derived)) {
        if (key in value) ctx.addIssue({ code: 'custom', path: [key], message: `set by the pipeline (${from}); remove it here` });
      }
      const r = schema.safeParse(value);
      if (r.success) return;
      for (const issue of r.error.issues) {
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
        ctx.addIssue({
          code: 'custom',
          path: issue.path as PropertyKey[],
          message: keys.length > 0 ? `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}` : issue.message,
        });
      }
    })
    .describe('model options (the model package\'s schema; vocabulary, special ids, sentence length and seed come from the pipeline)');
}
