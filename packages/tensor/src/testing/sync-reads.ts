/**
 * Guard for code that must run on backends without synchronous downloads (webgpu in Node):
 * runs `f` with `dataSync`/`arraySync`/`bufferSync` turned into errors. On `cpu`, `t.data()`
 * goes through the backend's own read, not the engine's `readSync`, so only sync reads fail.
 */
import * as tf from '@tensorflow/tfjs-core';

export async function withoutSyncReads<T>(f: () => Promise<T>): Promise<T> {
  const engine = tf.engine();
  const readSync = engine.readSync;
  engine.readSync = () => {
    throw new Error('synchronous tensor read (dataSync/arraySync/bufferSync) in an async-only path');
  };
  try {
    return await f();
  } finally {
    engine.readSync = readSync;
  }
}
