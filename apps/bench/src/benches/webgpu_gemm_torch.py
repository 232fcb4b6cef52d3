"""PyTorch CUDA reference for `pnpm bench webgpu-gemm`: the same float32 GEMMs, plain fp32 and
with TF32 tensor-core matmuls (torch.backends.cuda.matmul.allow_tf32), taking turns shape by shape.

usage: python3 webgpu_gemm_torch.py '<json list of shapes>' [--reps N] [--device cuda|cpu]
Each shape is {"batch", "m", "n", "k", "transposeA", "transposeB", ...} (as gemm_shapes_numpy.py):
C[batch, m, n] = op(A) op(B), A stored [batch, k, m] when transposed (else [batch, m, k]), B
[batch, n, k] when transposed (else [batch, k, n]), 2-D when batch is 1; torch.matmul takes the
transposed operands as strided views (cuBLAS transpose flags, no copy) and writes into a
preallocated output.
Per shape and mode: one warm-up call, then `reps` calls each between two CUDA events (GPU time per
call: "ms", the mean), then `reps` back-to-back calls ended by one synchronize ("wall_ms" per call).
Prints one JSON line: {"torch", "cuda", "device_name", "fp32": [{"ms", "wall_ms"} per shape, in
order], "tf32": [...] or null}.
`--device cpu` runs the same code path on the CPU build (tests on machines without CUDA): fp32 only,
and "ms" is wall time per call. Without CUDA, `--device cuda` exits 1 saying so.
"""
import argparse
import json
import time

import torch


def operand(count, rows, cols, transposed, device):
    """[count, rows, cols] (a transposed view of [count, cols, rows] when transposed), 2-D when count is 1."""
    x = torch.rand((count, cols, rows) if transposed else (count, rows, cols), device=device) * 2 - 1
    if transposed:
        x = x.transpose(-1, -2)
    return x if count > 1 else x[0]


def timings(s, reps, device, sync):
    batch = s["batch"]
    a = operand(batch, s["m"], s["k"], s["transposeA"], device)
    b = operand(batch, s["k"], s["n"], s["transposeB"], device)
    out = torch.empty((batch, s["m"], s["n"]) if batch > 1 else (s["m"], s["n"]), device=device)
    torch.matmul(a, b, out=out)  # warm-up: cuBLAS handle, kernel selection
    sync()
    if device == "cuda":
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(reps)]
        for start, end in events:
            start.record()
            torch.matmul(a, b, out=out)
            end.record()
        sync()
        per_call = [start.elapsed_time(end) for start, end in events]
    else:
        per_call = []
        for _ in range(reps):
            t0 = time.perf_counter()
            torch.matmul(a, b, out=out)
            per_call.append((time.perf_counter() - t0) * 1e3)
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.matmul(a, b, out=out)
    sync()
    wall = (time.perf_counter() - t0) * 1e3 / reps
    return {"ms": sum(per_call) / len(per_call), "wall_ms": wall}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("shapes", help="JSON list of shapes")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    a = p.parse_args()
    cuda = a.device == "cuda"
    if cuda and not torch.cuda.is_available():
        raise SystemExit(f"webgpu_gemm_torch.py: torch {torch.__version__} sees no CUDA device (torch.cuda.is_available() is False)")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    torch.manual_seed(0)
    shapes = json.loads(a.shapes)
    fp32, tf32 = [], []
    for s in shapes:
        # fp32 means fp32: TF32 only in its own mode.
        torch.backends.cuda.matmul.allow_tf32 = False
        fp32.append(timings(s, a.reps, a.device, sync))
        if cuda:
            torch.backends.cuda.matmul.allow_tf32 = True
            tf32.append(timings(s, a.reps, a.device, sync))
            torch.backends.cuda.matmul.allow_tf32 = False
    print(json.dumps({"torch": torch.__version__, "cuda": torch.version.cuda, "device_name": torch.cuda.get_device_name() if cuda else "cpu",
                      "fp32": fp32, "tf32": tf32 if cuda else None}))


if __name__ == "__main__":
    main()
