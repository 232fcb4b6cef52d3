"""GEMM GFLOP/s of numpy (its BLAS) for `pnpm bench kernels`: the best of `reps` products.

usage: python3 kernels_numpy.py 256,512,1024 [reps]
Prints one JSON object: {"blas": "...", "numpy": "...", "gflops": {"256": ..., ...}}.
"""
import json
import sys
import time

import numpy as np


def blas_name() -> str:
    try:
        cfg = np.show_config(mode="dicts")  # numpy >= 1.26
        return str(cfg["Build Dependencies"]["blas"].get("name", "unknown"))
    except Exception:
        try:
            info = np.__config__.get_info("blas_opt_info")  # numpy < 1.26
            return ",".join(info.get("libraries", [])) or "unknown"
        except Exception:
            return "unknown"


def gflops(n: int, reps: int) -> float:
    rng = np.random.default_rng(n)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b  # warm-up (thread pool start, page faults)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2.0 * n**3 / min(times) / 1e9


def main() -> None:
    sizes = [int(s) for s in sys.argv[1].split(",")]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    out = {str(n): gflops(n, reps) for n in sizes}
    print(json.dumps({"blas": blas_name(), "numpy": np.__version__, "gflops": out}))


if __name__ == "__main__":
    main()
