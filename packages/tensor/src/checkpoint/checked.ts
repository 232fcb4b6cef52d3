/**
 * Checksummed safetensors: tf tensors <-> safetensors bytes with a sha256 of the data section in
 * the metadata, verified on decode. Training checkpoints and any other tensor file use it.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type DecodedSafetensors, type StoredTensor } from './safetensors.js';

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A tensor's values (read asynchronously from the backend) as stored in a file. */
export async function toStoredTensor(t: tf.Tensor): Promise<StoredTensor> {
  if (t.dtype === 'float32') return { dtype: 'F32', shape: t.shape, data: (await t.data()) as Float32Array };
  if (t.dtype === 'int32') return { dtype: 'I32', shape: t.shape, data: (await t.data()) as Int32Array };
  throw new Error(`safetensors: cannot store dtype ${t.dtype} (only float32 and int32)`);
}

/** Every tensor's values read (one after another, asynchronously) for a file, names kept. */
export async function toStoredTensors(tensors: Iterable<readonly [string, tf.Tensor]>): Promise<Map<string, StoredTensor>> {
  const out = new Map<string, StoredTensor>();
  for (const [name, t] of tensors) out.set(name, await toStoredTensor(t));
  return out;
}

/** A stored tensor back as a tf tensor (the caller disposes it). */
export function fromStoredTensor(t: StoredTensor): tf.Tensor {
  return tf.tensor(t.data, t.shape, t.dtype === 'F32' ? 'float32' : 'int32');
}

/** Encodes tensors and string metadata, adding `sha256` of the data section; header + data as one buffer. */
export function encodeChecked(tensors: ReadonlyMap<string, StoredTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const { header, data } = encodeSafetensors(new Map(tensors), (d) => ({ ...metadata, sha256: sha256(d) }));
  const out = new Uint8Array(header.length + data.length);
  out.set(header, 0);
  out.set(data, header.length);
  return out;
}

/** Decodes and verifies the sha256 written by {@link encodeChecked}; problems throw {@link CheckpointError} naming `file`. */
export function decodeChecked(bytes: Uint8Array, file: string): DecodedSafetensors {
  const decoded = decodeSafetensors(bytes, file);
  const expected = decoded.metadata['sha256'];
  if (expected === undefined) throw new CheckpointError(file, 'metadata "sha256" is missing');
  const actual = sha256(decoded.data);
  if (expected !== actual) throw new CheckpointError(file, `corrupted: sha256 of the data section does not match the header (checksum mismatch: ${actual} vs ${expected})`);
  return decoded;
}

/** tf tensors by name -> checksummed safetensors bytes (each tensor read with an asynchronous read). */
export async function encodeTensors(tensors: ReadonlyMap<string, tf.Tensor>, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  return encodeChecked(await toStoredTensors(tensors), metadata);
}

/** Checksummed safetensors bytes -> tf tensors by name (the caller disposes them). */
export function decodeTensors(bytes: Uint8Array, file: string): Map<string, tf.Tensor> {
  return new Map([...decodeChecked(bytes, file).tensors].map(([name, t]) => [name, fromStoredTensor(t)]));
}
