import { FILE_ROLES, SHA256_HEADER, type FileRole, type PlaygroundInfo } from '../shared/playground.js';
import { sha256Hex } from './playground-sha256.js';

/** A download that did not arrive whole; the message names the run, role and file. */
export class TransferError extends Error {}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json().catch(() => ({}))) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${url}: HTTP ${res.status}`);
  return body;
}

export function fetchInfo(run: string): Promise<PlaygroundInfo> {
  return getJson<PlaygroundInfo>(`/api/playground?run=${encodeURIComponent(run)}`);
}

/**
 * Downloads one file of a run and checks it against what the server described: the response's
 * length and hash headers, the bytes received, and their sha256. `onProgress(received, total)`
 * follows the stream.
 */
export async function fetchRunFile(info: PlaygroundInfo, role: FileRole, onProgress: (received: number, total: number) => void = () => {}): Promise<Uint8Array> {
  const expected = info.files[role];
  if (expected === undefined) throw new TransferError(`${info.run}: has no ${role} file`);
  const what = `${info.run}: ${role} ${expected.name}`;
  let res: Response;
  try {
    res = await fetch(`/api/run-file?run=${encodeURIComponent(info.run)}&role=${role}`);
  } catch (error) {
    throw new TransferError(`${what}: download failed (${(error as Error).message})`);
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new TransferError(`${what}: ${body.error ?? `HTTP ${res.status}`}`);
  }
  const length = res.headers.get('Content-Length');
  if (length !== null && Number(length) !== expected.bytes) throw new TransferError(`${what}: the server sends ${length} bytes, the run's file has ${expected.bytes} (it changed since the page asked; reload)`);
  const header = res.headers.get(SHA256_HEADER);
  if (header !== expected.sha256) throw new TransferError(`${what}: the server's hash ${String(header)} is not the run's ${expected.sha256} (it changed since the page asked; reload)`);
  const bytes = new Uint8Array(expected.bytes);
  let received = 0;
  const reader = res.body!.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (received + value.length > bytes.length) throw new TransferError(`${what}: received more than the ${expected.bytes} bytes announced`);
      bytes.set(value, received);
      received += value.length;
      onProgress(received, expected.bytes);
    }
  } catch (error) {
    if (error instanceof TransferError) throw error;
    throw new TransferError(`${what}: transfer broke off after ${received} of ${expected.bytes} bytes (${(error as Error).message})`);
  }
  if (received !== expected.bytes) throw new TransferError(`${what}: truncated transfer, received ${received} of ${expected.bytes} bytes`);
  const actual = await sha256Hex(bytes);
  if (actual !== expected.sha256) throw new TransferError(`${what}: corrupted transfer, sha256 ${actual} is not ${expected.sha256}`);
  return bytes;
}

export type RunFileBytes = Record<'checkpoint' | 'tokenizer', Uint8Array> & { svae?: Uint8Array };

/** Every file of a run, downloaded and checked. */
export async function fetchRunFiles(info: PlaygroundInfo, onProgress: (role: FileRole, received: number, total: number) => void): Promise<RunFileBytes> {
  const out: Partial<Record<FileRole, Uint8Array>> = {};
  for (const role of FILE_ROLES) if (info.files[role] !== undefined) out[role] = await fetchRunFile(info, role, (r, t) => onProgress(role, r, t));
  return out as RunFileBytes;
}
