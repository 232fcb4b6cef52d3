/**
 * The safetensors file format (https://github.com/huggingface/safetensors), written and read
 * here: 8-byte little-endian header length N, N bytes of JSON header
 * `{"__metadata__": {string: string}, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}}`,
 * then the raw little-endian tensor bytes (offsets relative to the data section).
 */

export type SafetensorsDtype = 'F32' | 'I32';

export interface StoredTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`checkpoint ${file}: ${problem}`);
    this.name = 'CheckpointError';
  }
}

// Typed arrays use the platform's byte order; on little-endian hosts (all we run on) bytes copy as is.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const BYTES: Record<SafetensorsDtype, number> = { F32: 4, I32: 4 };
/** Headers larger than this are treated as corruption rather than allocated. */
const MAX_HEADER = 100 * 1024 * 1024;

/**
 * Encodes tensors (sorted by name) and metadata; `metadata` may be a function of the data
 * section so that a checksum of it can go into the header.
 */
export function encodeSafetensors(
  tensors: Map<string, StoredTensor>,
  metadata: Record<string, string> | ((data: Uint8Array) => Record<string, string>),
): { header: Uint8Array; data: Uint8Array } {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`safetensors: "${name}" has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = size * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const data = new Uint8Array(offset);
  const view = new DataView(data.buffer);
  for (const name of names) {
    const t = tensors.get(name)!;
    const [begin] = (header[name] as { data_offsets: [number, number] }).data_offsets;
    if (LITTLE_ENDIAN) data.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), begin);
    else {
      for (let i = 0; i < t.data.length; i++) {
        if (t.dtype === 'F32') view.setFloat32(begin + 4 * i, t.data[i]!, true);
        else view.setInt32(begin + 4 * i, t.data[i]!, true);
      }
    }
  }
  const meta = typeof metadata === 'function' ? metadata(data) : metadata;
  let json = JSON.stringify({ __metadata__: meta, ...header });
  // Pad with spaces so the data section starts 8-byte aligned (allowed by the format).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const head = new Uint8Array(8 + jsonBytes.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  head.set(jsonBytes, 8);
  return { header: head, data };
}

export interface DecodedSafetensors {
  metadata: Record<string, string>;
  tensors: Map<string, StoredTensor>;
  /** The raw data section (for checksums). */
  data: Uint8Array;
}

/** Parses and validates a whole file's bytes; every problem is a {@link CheckpointError} naming `file`. */
export function decodeSafetensors(bytes: Uint8Array, file: string): DecodedSafetensors {
  const fail = (problem: string): never => {
    throw new CheckpointError(file, problem);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > MAX_HEADER) fail(`corrupted: header length ${n} is implausible`);
  if (8 + n > bytes.length) fail(`truncated: header needs ${n} bytes but only ${bytes.length - 8} follow`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`corrupted: header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('corrupted: header is not a JSON object');
  const data = bytes.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, StoredTensor>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null) fail('corrupted: __metadata__ is not an object');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`corrupted: __metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== 'F32' && e.dtype !== 'I32') fail(`tensor "${name}": unsupported dtype ${JSON.stringify(e.dtype)} (F32 and I32 are supported)`);
    const dtype = e.dtype as SafetensorsDtype;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor "${name}": bad shape ${JSON.stringify(e.shape)}`);
    const shape = e.shape as number[];
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)) {
      fail(`tensor "${name}": bad data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const size = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== size * BYTES[dtype]) fail(`tensor "${name}": data_offsets [${begin}, ${end}] do not hold shape [${shape}] of ${dtype}`);
    if (end > data.length) fail(`truncated: tensor "${name}" ends at byte ${end} of the data section, which has ${data.length}`);
    const out = dtype === 'F32' ? new Float32Array(size) : new Int32Array(size);
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(data.subarray(begin, end));
    else {
      const tv = new DataView(data.buffer, data.byteOffset + begin, end - begin);
      for (let i = 0; i < size; i++) out[i] = dtype === 'F32' ? tv.getFloat32(4 * i, true) : tv.getInt32(4 * i, true);
    }
    tensors.set(name, { dtype, shape, data: out });
  }
  return { metadata, tensors, data };
}
