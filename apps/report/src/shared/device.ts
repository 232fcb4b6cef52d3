/**
 * What a run computed on, beyond its backend's name, from meta.json `backendInfo` (flattened):
 * the GPU adapter of a webgpu run, the kernels of a native one (which decide its figures' last
 * digits). '' where the run recorded neither.
 */
import { nativeKernelsOf, nativeKernelsText } from '@sentencelab/tensor/native-kernels';
import type { RunRow } from './types.js';

export function deviceOf(row: Pick<RunRow, 'info'>): string {
  const info = row.info ?? {};
  const native = nativeKernelsOf({ simd: info['native.simd'], threads: info['native.threads'], blas: info['native.blas'] });
  if (native !== undefined) return nativeKernelsText(native);
  const description = info['device.description'];
  const parts = [info['device.vendor'], info['device.architecture'], info['device.device']].filter((p) => typeof p === 'string' && p !== '');
  const name = typeof description === 'string' && description !== '' ? description : parts.join(' ');
  return name + (info['device.software'] === true ? ' (software)' : '');
}
