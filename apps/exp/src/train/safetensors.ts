/**
 * tf.Tensor maps <-> safetensors bytes, over tensor's safetensors codec (float32 and int32),
 * with a sha256 of the data section in the metadata that is checked on load.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, decodeSafetensors as decode, encodeSafetensors as encode, type StoredTensor } from '@sentencelab/tensor';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Serialises tensors (read synchronously from the backend), names sorted. */
export function encodeSafetensors(tensors: ReadonlyMap<string, tf.Tensor>): Uint8Array {
  const stored = new Map<string, StoredTensor>();
  for (const [name, t] of tensors) {
    if (t.dtype === 'float32') stored.set(name, { dtype: 'F32', shape: t.shape, data: t.dataSync() as Float32Array });
    else if (t.dtype === 'int32') stored.set(name, { dtype: 'I32', shape: t.shape, data: t.dataSync() as Int32Array });
    else throw new Error(`safetensors: tensor "${name}" has dtype ${t.dtype}; only float32 and int32 are written`);
  }
  const { header, data } = encode(stored, (d) => ({ sha256: sha256(d) }));
  const out = new Uint8Array(header.length + data.length);
  out.set(header, 0);
  out.set(data, header.length);
  return out;
}

/** Parses safetensors bytes into tensors (caller disposes); a corrupted file is a clear error naming `origin`. */
export function decodeSafetensors(buf: Uint8Array, origin: string): Map<string, tf.Tensor> {
  const decoded = decode(buf, origin);
  const expected = decoded.metadata['sha256'];
  if (expected !== undefined && expected !== sha256(decoded.data)) throw new CheckpointError(origin, 'checksum mismatch: the file is corrupted');
  const out = new Map<string, tf.Tensor>();
  for (const [name, t] of decoded.tensors) out.set(name, tf.tensor(t.data, t.shape, t.dtype === 'F32' ? 'float32' : 'int32'));
  return out;
}
