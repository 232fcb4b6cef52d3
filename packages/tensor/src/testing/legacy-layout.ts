import * as tf from '@tensorflow/tfjs-core';

/**
 * Named tensors as the code before attention packed its projections named them: each
 * `<prefix>.qkv.<weight|bias>` split along its last axis into `<prefix>.q.`, `.k.`, `.v.`, and
 * each `<prefix>.kv.*` into `.k.`, `.v.`; every other entry as it is. New variables, so the
 * result can build an AdamW or a checkpoint of the old layout (tests of loading old files).
 */
export function legacyAttentionLayout(entries: Iterable<readonly [string, tf.Tensor]>): Map<string, tf.Variable> {
  return new Map(
    [...entries].flatMap(([name, t]): Array<[string, tf.Variable]> => {
      const packed = /^(.*)\.(qkv|kv)\.(weight|bias)$/.exec(name);
      if (packed === null) return [[name, tf.variable(t)]];
      const [, prefix, parts, param] = packed as unknown as [string, string, string, string];
      return tf.split(t, parts.length, -1).map((part, i): [string, tf.Variable] => [`${prefix}.${parts[i]}.${param}`, tf.variable(part)]);
    }),
  );
}
