/**
 * Second bundle entry: the webgpu backend, sharing the main entry's tfjs-core chunk. The tensor
 * package loads it at run time by name (`import('@tensorflow/tfjs-backend-webgpu')`), so pack.sh
 * installs a package of that name whose index.mjs re-exports this file.
 */
export * from '@tensorflow/tfjs-backend-webgpu';
