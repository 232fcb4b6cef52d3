/**
 * Loss metrics that stay on the device until read: a model's `loss(batch)` returns its logged
 * values as plain numbers or scalar tensors, and the caller reads every scalar with ONE
 * asynchronous read (backends such as webgpu in Node cannot read synchronously, and each read
 * is a device round trip).
 */
import * as tf from '@tensorflow/tfjs-core';

/** A loss's logged values by name: numbers known on the host, or scalars still on the device. */
export type MetricValues = Readonly<Record<string, number | tf.Scalar | undefined>>;

/** The scalar tensors among `metrics` (each once, even when two names share one tensor). */
export function metricScalars(metrics: MetricValues): tf.Scalar[] {
  return [...new Set(Object.values(metrics).filter((v): v is tf.Scalar => v instanceof tf.Tensor))];
}

/**
 * Reads `metrics` as numbers: every scalar in one asynchronous read (then disposed), numbers as
 * they are, undefined entries left out.
 */
export async function readMetricValues(metrics: MetricValues): Promise<Record<string, number>> {
  const scalars = metricScalars(metrics);
  for (const [name, v] of Object.entries(metrics)) {
    if (v instanceof tf.Tensor && v.size !== 1) throw new Error(`readMetricValues: metric "${name}" is a tensor of shape [${v.shape}], not a scalar`);
  }
  let values: ArrayLike<number> = [];
  if (scalars.length > 0) {
    const stacked = tf.tidy(() => tf.stack(scalars.map((s) => tf.cast(tf.reshape(s, []), 'float32'))));
    try {
      values = await stacked.data();
    } finally {
      stacked.dispose();
      tf.dispose(scalars);
    }
  }
  const index = new Map(scalars.map((s, i) => [s, i]));
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(metrics)) {
    if (v === undefined) continue;
    out[name] = typeof v === 'number' ? v : values[index.get(v)!]!;
  }
  return out;
}
