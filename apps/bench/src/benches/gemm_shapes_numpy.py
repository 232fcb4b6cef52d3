"""numpy (its BLAS: OpenBLAS on our machines) on the GEMM shapes of `pnpm bench gemm-shapes`.

usage: python3 gemm_shapes_numpy.py '<json list of shapes>' [reps] [threads]
Each shape is {"batch", "m", "n", "k", "transposeA", "transposeB", "aMatrices", "bMatrices"}:
C[batch, m, n] = op(A) op(B), with A stored [aMatrices, k, m] when transposed (else [.., m, k]),
B [bMatrices, n, k] when transposed (else [.., k, n]); a single matrix broadcasts over the batch.
np.matmul sends each 2-D product to cblas_sgemm with the transposes as flags (one call per matrix
of the batch), writing into a preallocated output.
`threads` sets OpenBLAS's threads (OPENBLAS_NUM_THREADS, before numpy loads it).
Prints one JSON object: {"blas": "...", "numpy": "...", "best": [{"ms", "cpuMs"} per shape, in order]},
the least wall time and the least process CPU time (all threads) of one call over the reps.
"""
import json
import os
import sys
import time

if len(sys.argv) > 3:
    os.environ["OPENBLAS_NUM_THREADS"] = sys.argv[3]

import numpy as np  # noqa: E402 (after the thread count is set)

from kernels_numpy import blas_name  # noqa: E402


def operand(rng, count, rows, cols, transposed, batched):
    """[count, rows, cols] (or its transpose view), squeezed to 2-D when the product is not batched."""
    x = rng.standard_normal((count, cols, rows) if transposed else (count, rows, cols), dtype=np.float32)
    if transposed:
        x = x.swapaxes(-1, -2)
    return x if batched else x[0]


def best(s, reps):
    rng = np.random.default_rng(s["m"] * 7 + s["n"] * 3 + s["k"])
    batched = s["batch"] > 1
    a = operand(rng, s["aMatrices"], s["m"], s["k"], s["transposeA"], batched)
    b = operand(rng, s["bMatrices"], s["k"], s["n"], s["transposeB"], batched)
    out = np.empty((s["batch"], s["m"], s["n"]) if batched else (s["m"], s["n"]), dtype=np.float32)
    np.matmul(a, b, out=out)  # warm-up (thread pool start, page faults)
    wall, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        np.matmul(a, b, out=out)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"ms": min(wall) * 1e3, "cpuMs": min(cpu) * 1e3}


def main() -> None:
    shapes = json.loads(sys.argv[1])
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    print(json.dumps({"blas": blas_name(), "numpy": np.__version__, "best": [best(s, reps) for s in shapes]}))


if __name__ == "__main__":
    main()
