import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { beforeAll, describe, expect, test } from 'vitest';
import { decodeTensors as decodeSafetensors, encodeTensors as encodeSafetensors } from './checked.js';

beforeAll(async () => {
  await initBackend('cpu', { log: false });
});

describe('checksummed tensor files', () => {
  test('round trip is bit-exact for float32 and int32', async () => {
    const a = tf.tensor([1.5, -0, Number.MIN_VALUE, 3e38], [2, 2]);
    const b = tf.tensor([7, -8], [2], 'int32');
    const out = decodeSafetensors(await encodeSafetensors(new Map([['a', a], ['b', b]])), 'x.safetensors');
    expect(Array.from(out.get('a')!.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(out.get('a')!.shape).toEqual([2, 2]);
    expect(out.get('b')!.dtype).toBe('int32');
    expect(Array.from(out.get('b')!.dataSync())).toEqual([7, -8]);
  });

  test('a flipped data byte fails the checksum, naming the file', async () => {
    const bytes = await encodeSafetensors(new Map([['a', tf.tensor([1, 2, 3])]]));
    bytes[bytes.length - 1]! ^= 1;
    expect(() => decodeSafetensors(bytes, 'ck/params.safetensors')).toThrow(/ck\/params\.safetensors.*checksum mismatch/);
  });

  test('a truncated file is a clear error', async () => {
    const bytes = await encodeSafetensors(new Map([['a', tf.tensor([1, 2, 3])]]));
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), 'p.safetensors')).toThrow(/p\.safetensors/);
  });
});
