/**
 * The safetensors layout (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * header length, a JSON header `{name: {dtype, shape, data_offsets: [begin, end]}}` (plus an
 * optional `__metadata__` of strings), then the raw little-endian tensor bytes. Float32 and
 * int32 tensors only (all the training state is).
 */
import * as tf from '@tensorflow/tfjs-core';

const DTYPES = { float32: 'F32', int32: 'I32' } as const;

/** Serialises tensors (read synchronously from the backend) in name order. */
export function encodeSafetensors(tensors: ReadonlyMap<string, tf.Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = Object.keys(metadata).length > 0 ? { __metadata__: metadata } : {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const dtype = DTYPES[t.dtype as keyof typeof DTYPES];
    if (dtype === undefined) throw new Error(`safetensors: tensor "${name}" has dtype ${t.dtype}; only float32 and int32 are written`);
    const values = t.dataSync() as Float32Array | Int32Array;
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (as the reference writer does).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Parses a safetensors buffer into tensors; `origin` names the file in errors. */
export function decodeSafetensors(buf: Uint8Array, origin: string): Map<string, tf.Tensor> {
  const fail = (why: string): never => {
    throw new Error(`${origin}: not a valid safetensors file (${why})`);
  };
  if (buf.byteLength < 8) fail('shorter than its 8-byte header length');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > buf.byteLength) fail(`header of ${n} bytes runs past the end (${buf.byteLength} bytes): truncated`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n))) as typeof header;
  } catch {
    return fail('header is not JSON');
  }
  const data = buf.subarray(8 + n);
  const out = new Map<string, tf.Tensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = e.data_offsets;
    if (!(begin >= 0 && end >= begin && end <= data.byteLength)) fail(`tensor "${name}" lies outside the data (truncated?)`);
    // A copy, aligned at 0 (Node Buffers are views into a shared pool, and slice() does not copy them).
    const bytes = new Uint8Array(end - begin);
    bytes.set(data.subarray(begin, end));
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (e.dtype === 'F32' && bytes.byteLength === size * 4) out.set(name, tf.tensor(new Float32Array(bytes.buffer), e.shape, 'float32'));
    else if (e.dtype === 'I32' && bytes.byteLength === size * 4) out.set(name, tf.tensor(new Int32Array(bytes.buffer), e.shape, 'int32'));
    else fail(`tensor "${name}": dtype ${e.dtype} with ${bytes.byteLength} bytes for shape [${e.shape}]`);
  }
  return out;
}
