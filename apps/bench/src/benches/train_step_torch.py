"""PyTorch reference for `pnpm bench train-step`: the same GPT (token + learned positions,
pre-norm blocks with LayerNorm, 4-head attention with biases, exact-GELU MLP 4x, final norm,
untied head), cross-entropy, AdamW, fp32 eager, on `--device cpu|cuda|auto` (auto: cuda when
available); with --tf32 (cuda only) matmuls may use TF32 tensor cores, as PyTorch allows with
`torch.backends.cuda.matmul.allow_tf32`. Prints one JSON line {"ms_per_step", "cpu_ms_per_step", "device", "device_name", ...}
(medians; CPU time counts every thread; on cuda each timed step is bracketed by
torch.cuda.synchronize()), "peak_rss_mb" (the process's peak resident set during the timed steps,
from /proc/self/status VmHWM after resetting it through /proc/self/clear_refs; null where Linux
does not allow that) and, with --gemm N, "gemm_gflops": the best of 5 n x n fp32 torch.mm on the
same device (OpenBLAS on Debian's CPU build), the machine's GEMM peak in this run. On cuda,
"gpu_reserved_mb": torch.cuda.max_memory_reserved over the timed steps."""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = {
    "tiny": dict(vocab=512, d=256, seq=128, batch=8, layers=2, heads=4),
    "medium": dict(vocab=4096, d=256, seq=64, batch=32, layers=4, heads=4),
    "large": dict(vocab=4096, d=512, seq=256, batch=32, layers=4, heads=8),
}


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d)
        self.q, self.k, self.v, self.out = (nn.Linear(d, d) for _ in range(4))
        self.norm2 = nn.LayerNorm(d)
        self.up = nn.Linear(d, 4 * d)
        self.down = nn.Linear(4 * d, d)

    def forward(self, x, mask):
        b, s, d = x.shape
        h = self.norm1(x)
        split = lambda t: t.view(b, s, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.heads) + mask
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, s, d)
        x = x + self.out(y)
        return x + self.down(F.gelu(self.up(self.norm2(x))))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.tok = nn.Embedding(c["vocab"], c["d"])
        self.pos = nn.Parameter(torch.randn(c["seq"], c["d"]) * 0.02)
        self.blocks = nn.ModuleList(Block(c["d"], c["heads"]) for _ in range(c["layers"]))
        self.norm = nn.LayerNorm(c["d"])
        self.head = nn.Linear(c["d"], c["vocab"], bias=False)
        s = c["seq"]
        self.register_buffer("mask", torch.full((s, s), -1e9).triu(1))

    def forward(self, ids):
        x = self.tok(ids) + self.pos[: ids.shape[1]]
        for blk in self.blocks:
            x = blk(x, self.mask)
        return self.head(self.norm(x))


def reset_peak_rss():
    """Resets VmHWM to the current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def gemm_gflops(n, device, sync):
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    torch.mm(a, b)  # warm-up
    best = math.inf
    for _ in range(5):
        sync()
        t0 = time.perf_counter()
        torch.mm(a, b)
        sync()
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size", choices=list(SIZES), default="tiny")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")
    p.add_argument("--gemm", type=int, default=0, help="also time an n x n torch.mm (0: no)")
    p.add_argument("--tf32", action="store_true", help="cuda: let matmuls use TF32 tensor cores (default: fp32 throughout)")
    a = p.parse_args()
    device = ("cuda" if torch.cuda.is_available() else "cpu") if a.device == "auto" else a.device
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("train_step_torch.py: --device cuda but torch.cuda.is_available() is False")
    cuda = device == "cuda"
    if a.tf32 and not cuda:
        raise SystemExit("train_step_torch.py: --tf32 needs --device cuda (or auto on a machine with a GPU)")
    if cuda:
        # fp32 means fp32: no TF32 tensor-core matmuls, unless --tf32 asks for them.
        torch.backends.cuda.matmul.allow_tf32 = a.tf32
        torch.backends.cudnn.allow_tf32 = a.tf32
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = SIZES[a.size]
    model = GPT(c).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
    ids = torch.randint(0, c["vocab"], (c["batch"], c["seq"])).to(device)
    targets = torch.randint(0, c["vocab"], (c["batch"], c["seq"])).to(device)
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(ids).view(-1, c["vocab"]), targets.view(-1))
        loss.backward()
        opt.step()
        return loss.item()

    step()  # warm-up
    rss_reset = reset_peak_rss()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    times, cpu = [], []
    for _ in range(a.steps):
        sync()
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        sync()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    rss = peak_rss_mb() if rss_reset else None
    # What the caching allocator held at most during the timed steps (parameters, optimizer state, activations).
    gpu_reserved = torch.cuda.max_memory_reserved() / 2**20 if cuda else None
    gemm = gemm_gflops(a.gemm, device, sync) if a.gemm > 0 else None
    print(json.dumps({"peak_rss_mb": rss, "gpu_reserved_mb": gpu_reserved, "gemm_gflops": gemm, "ms_per_step": statistics.median(times), "cpu_ms_per_step": statistics.median(cpu),
                      "torch": torch.__version__, "threads": a.threads, "device": device, "tf32": a.tf32,
                      "device_name": torch.cuda.get_device_name() if cuda else "cpu"}))


if __name__ == "__main__":
    main()
