#include "dispatch.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>

#include "openblas.h"
#include "thread_pool.h"

namespace sl {
namespace {

bool cpu_has(const char* level) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (std::strcmp(level, "avx512") == 0)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
  if (std::strcmp(level, "avx2") == 0) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  if (std::strcmp(level, "avx512") == 0 || std::strcmp(level, "avx2") == 0) return false;
#endif
  return true;
}

const KernelTable* table_for(const std::string& name) {
#if defined(__x86_64__) || defined(__i386__)
  if (name == "avx512") return &kTableAvx512;
  if (name == "avx2") return &kTableAvx2;
#endif
  if (name == "generic") return &kTableGeneric;
  return nullptr;
}

const KernelTable* initial_table() {
  const char* forced = std::getenv("SENTENCELAB_NATIVE_SIMD");
  if (forced && *forced && cpu_has(forced) && table_for(forced)) return table_for(forced);
  for (const auto& name : supported_simd()) return table_for(name);
  return &kTableGeneric;
}

int initial_threads() {
  const char* env = std::getenv("SENTENCELAB_NATIVE_THREADS");
  if (env && *env) {
    int n = std::atoi(env);
    if (n >= 1) return std::min(n, 256);
  }
  return available_cores();
}

const KernelTable* g_table = nullptr;

ThreadPool& pool() {
  static ThreadPool p(initial_threads());
  return p;
}

void run_tasks(int64_t n, const std::function<void(int64_t)>& fn) { pool().run(n, fn); }

}  // namespace

const KernelTable& table() {
  if (!g_table) g_table = initial_table();
  return *g_table;
}

std::vector<std::string> supported_simd() {
  std::vector<std::string> out;
  for (const char* name : {"avx512", "avx2", "generic"})
    if (table_for(name) && cpu_has(name)) out.emplace_back(name);
  return out;
}

bool set_simd(const std::string& name) {
  const KernelTable* t = table_for(name);
  if (!t || !cpu_has(name.c_str())) return false;
  g_table = t;
  return true;
}

int threads() { return pool().size(); }
void set_threads(int n) {
  pool().resize(std::max(1, std::min(n, 256)));
  if (openblas_active()) openblas_use(true, threads());
}

void parallel_ranges(int64_t n, int64_t grain, void (*body)(void*, int64_t, int64_t), void* ctx) {
  if (n <= 0) return;
  const int64_t T = threads();
  int64_t chunks = std::min<int64_t>(T * 4, (n + grain - 1) / std::max<int64_t>(grain, 1));
  if (chunks <= 1 || T == 1) {
    body(ctx, 0, n);
    return;
  }
  const int64_t step = (n + chunks - 1) / chunks;
  run_tasks(chunks, [&](int64_t t) {
    const int64_t b = t * step, e = std::min(n, b + step);
    if (b < e) body(ctx, b, e);
  });
}

void matmul(const float* A, const float* B, float* C, int64_t batch, const int32_t* batchA, const int32_t* batchB,
            int64_t M, int64_t N, int64_t K, bool transA, bool transB) {
  const KernelTable& kt = table();
  const int64_t T = threads();
  const double flops = 2.0 * M * N * K * batch;
  if (openblas_active() && M > 1 && K > 0) {
    for (int64_t b = 0; b < batch; ++b)
      openblas_sgemm(A + static_cast<int64_t>(batchA[b]) * M * K, B + static_cast<int64_t>(batchB[b]) * K * N,
                     C + b * M * N, M, N, K, transA, transB);
    return;
  }
  if (M == 1 && K > 0) {
    // Vector x matrix: memory-bound, so no packing; split the output columns.
    for (int64_t b = 0; b < batch; ++b) {
      const float* x = A + static_cast<int64_t>(batchA[b]) * K;
      const float* Bm = B + static_cast<int64_t>(batchB[b]) * K * N;
      float* out = C + b * N;
      const int64_t grain = std::max<int64_t>(64, kElementGrain / K);
      for_ranges(N, grain, [&](int64_t lo, int64_t hi) {
        if (transB)
          kt.gemv_dots(x, Bm + lo * K, K, hi - lo, K, out + lo);
        else
          kt.gemv_rows(x, Bm + lo, K, hi - lo, N, out + lo);
      });
    }
    return;
  }
  // Split each matrix into P parts (along N when it is wide enough, else along M) so that the
  // task count covers the threads evenly; tiny products stay on the calling thread.
  int64_t P = 1;
  if (T > 1 && flops > 2.0 * 48 * 48 * 48 && batch % T != 0 && batch < 4 * T)
    P = std::max<int64_t>(1, (2 * T + batch - 1) / batch);
  // Each part packs the whole of the operand it does not split (A when splitting N, B when
  // splitting M), so split the longer side: M x K packed P times costs more than the product
  // when N is small (a backward dX = dY W^T with N = dModel), and likewise K x N for small M.
  const bool canN = N >= P * kt.gemm_nr * 2, canM = M >= P * kt.gemm_mr * 2;
  const bool splitN = canN ? (N >= M || !canM) : !canM && N >= M;
  const int64_t unit = splitN ? kt.gemm_nr : kt.gemm_mr;
  const int64_t extent = splitN ? N : M;
  const int64_t part = std::max<int64_t>(unit, (extent / P + unit - 1) / unit * unit);
  const int64_t parts = (extent + part - 1) / part;
  const int64_t rsA = transA ? 1 : K, csA = transA ? M : 1;
  const int64_t rsB = transB ? 1 : N, csB = transB ? K : 1;
  auto task = [&](int64_t t) {
    const int64_t b = t / parts, p = t % parts;
    const int64_t lo = p * part, len = std::min(part, extent - lo);
    GemmArgs g;
    g.A = A + static_cast<int64_t>(batchA[b]) * M * K;
    g.B = B + static_cast<int64_t>(batchB[b]) * K * N;
    g.C = C + b * M * N;
    g.rsA = rsA, g.csA = csA, g.rsB = rsB, g.csB = csB, g.ldc = N;
    g.M = M, g.N = N, g.K = K;
    if (splitN) {
      g.B += lo * csB, g.C += lo, g.N = len;
    } else {
      g.A += lo * rsA, g.C += lo * N, g.M = len;
    }
    kt.gemm_block(g);
  };
  if (T == 1 || flops < 2.0 * 48 * 48 * 48) {
    for (int64_t t = 0; t < batch * parts; ++t) task(t);
  } else {
    run_tasks(batch * parts, task);
  }
}

void bias_act(float* c, const float* bias, int64_t rows, int64_t cols, int act, float alpha) {
  const KernelTable& kt = table();
  const int64_t grain = std::max<int64_t>(1, kElementGrain / std::max<int64_t>(cols, 1));
  for_ranges(rows, grain, [&](int64_t b, int64_t e) { kt.bias_act(c + b * cols, bias, e - b, cols, act, alpha); });
}

void unary(int op, const float* x, float* out, int64_t n, float alpha) {
  const KernelTable& kt = table();
  for_ranges(n, kElementGrain, [&](int64_t b, int64_t e) { kt.unary(op, x + b, out + b, e - b, alpha); });
}

void softmax(const float* x, float* out, int64_t rows, int64_t cols, int log) {
  const KernelTable& kt = table();
  const int64_t grain = std::max<int64_t>(1, kElementGrain / 4 / std::max<int64_t>(cols, 1));
  for_ranges(rows, grain,
             [&](int64_t b, int64_t e) { kt.softmax_rows(x + b * cols, out + b * cols, e - b, cols, log); });
}

void reduce(int op, const float* x, float* out, int64_t outer, int64_t R, int64_t inner) {
  const KernelTable& kt = table();
  if (inner == 1) {
    const int64_t grain = std::max<int64_t>(1, kElementGrain / std::max<int64_t>(R, 1));
    for_ranges(outer, grain, [&](int64_t b, int64_t e) { kt.reduce_inner(op, x + b * R, out + b, e - b, R); });
  } else if (outer >= 2 * threads() || inner < 64) {
    const int64_t grain = std::max<int64_t>(1, kElementGrain / std::max<int64_t>(R * inner, 1));
    for_ranges(outer, grain, [&](int64_t b, int64_t e) {
      kt.reduce_mid(op, x + b * R * inner, out + b * inner, e - b, R, inner, inner);
    });
  } else {
    // Few outer slices: split the columns instead (each column is still reduced in one order).
    for (int64_t o = 0; o < outer; ++o) {
      const float* xo = x + o * R * inner;
      float* oo = out + o * inner;
      const int64_t grain = std::max<int64_t>(16, kElementGrain / std::max<int64_t>(R, 1));
      for_ranges(inner, grain, [&](int64_t b, int64_t e) { kt.reduce_mid(op, xo + b, oo + b, 1, R, inner, e - b); });
    }
  }
}

// Offsets into a and b of outer row o (all collapsed dims but the innermost, row-major).
static inline void outer_offsets(int64_t o, int r, const std::vector<int64_t>& dims, const std::vector<int64_t>& as,
                                 const std::vector<int64_t>& bs, int64_t& oa, int64_t& ob) {
  oa = 0, ob = 0;
  for (int i = r - 2; i >= 0; --i) {
    const int64_t idx = o % dims[i];
    o /= dims[i];
    oa += idx * as[i], ob += idx * bs[i];
  }
}

void binary(int op, const float* a, const float* b, float* out, int rank, const int64_t* shape, const int64_t* sa,
            const int64_t* sb) {
  // Collapse: drop size-1 dims, merge neighbours that stay contiguous for both inputs.
  std::vector<int64_t> dims, as, bs;
  for (int i = 0; i < rank; ++i) {
    if (shape[i] == 1) continue;
    if (!dims.empty() && as.back() == sa[i] * shape[i] && bs.back() == sb[i] * shape[i]) {
      dims.back() *= shape[i];
      as.back() = sa[i];
      bs.back() = sb[i];
    } else {
      dims.push_back(shape[i]);
      as.push_back(sa[i]);
      bs.push_back(sb[i]);
    }
  }
  if (dims.empty()) dims = {1}, as = {0}, bs = {0};
  const KernelTable& kt = table();
  const int r = static_cast<int>(dims.size());
  const int64_t inner = dims[r - 1];
  const int64_t ia = as[r - 1], ib = bs[r - 1];
  // Both inputs step by 1 or 0 along the innermost collapsed dim (merged dims are dense).
  const int mode = ia == 0 && ib != 0 ? kScalarVec : ib == 0 && ia != 0 ? kVecScalar : kVecVec;
  if (ia == 0 && ib == 0) {
    // Both broadcast along the innermost dim: one value per row.
    int64_t outer = 1;
    for (int i = 0; i < r - 1; ++i) outer *= dims[i];
    for_ranges(outer, kElementGrain / std::max<int64_t>(inner, 1) + 1, [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o) {
        int64_t oa, ob;
        outer_offsets(o, r, dims, as, bs, oa, ob);
        float v;
        kt.binary(op, kVecVec, a + oa, b + ob, &v, 1);
        for (int64_t j = 0; j < inner; ++j) out[o * inner + j] = v;
      }
    });
    return;
  }
  if (r == 1) {
    for_ranges(inner, kElementGrain, [&](int64_t lo, int64_t hi) {
      kt.binary(op, mode, a + (ia ? lo : 0), b + (ib ? lo : 0), out + lo, hi - lo);
    });
    return;
  }
  int64_t outer = 1;
  for (int i = 0; i < r - 1; ++i) outer *= dims[i];
  const int64_t grain = std::max<int64_t>(1, kElementGrain / std::max<int64_t>(inner, 1));
  for_ranges(outer, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; ++o) {
      int64_t oa, ob;
      outer_offsets(o, r, dims, as, bs, oa, ob);
      kt.binary(op, mode, a + oa, b + ob, out + o * inner, inner);
    }
  });
}

}  // namespace sl
