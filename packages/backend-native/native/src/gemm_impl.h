// Cache-blocked GEMM driver (the BLIS loop structure), compiled once per ISA with that ISA's
// register-blocked micro-kernel UK (UK::MR x UK::NR tile, UK::run(kc, Ap, Bp, C, ldc, acc)).
//   for jc (NC cols of B) / for pc (KC of K): pack B panel [kc x nc] (stays in L2/L3)
//     for ic (MC rows of A): pack A block [mc x kc] (stays in L2)
//       for jr (NR) / for ir (MR): micro-kernel; the B micro-panel stays in L1.
// Packing reads any strides, so transposed operands cost only a different packing loop.
// The K loop order is fixed, so results do not depend on threads or on the caller's split.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernels.h"

namespace sl {
namespace SL_ISA_NS {

struct PackBuffers {
  float* a = nullptr;
  float* b = nullptr;
  size_t a_cap = 0, b_cap = 0;
  static float* grow(float* p, size_t& cap, size_t need) {
    if (need <= cap) return p;
    std::free(p);
    cap = need;
    return static_cast<float*>(std::aligned_alloc(64, ((need * sizeof(float) + 63) / 64) * 64));
  }
  ~PackBuffers() {
    std::free(a);
    std::free(b);
  }
};

#if defined(__AVX__)
// In-register transpose: v[t] becomes column t of the 8x8 block whose rows were v[0..7].
static inline void transpose8(__m256 v[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
  const __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
  const __m256 t4 = _mm256_unpacklo_ps(v[4], v[5]), t5 = _mm256_unpackhi_ps(v[4], v[5]);
  const __m256 t6 = _mm256_unpacklo_ps(v[6], v[7]), t7 = _mm256_unpackhi_ps(v[6], v[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  v[0] = _mm256_permute2f128_ps(u0, u4, 0x20), v[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  v[2] = _mm256_permute2f128_ps(u2, u6, 0x20), v[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  v[4] = _mm256_permute2f128_ps(u0, u4, 0x31), v[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  v[6] = _mm256_permute2f128_ps(u2, u6, 0x31), v[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// Stores the first n (<= 8) lanes of v.
static inline void store_lanes(float* d, __m256 v, int n) {
  if (n == 8) {
    _mm256_storeu_ps(d, v);
  } else if (n == 6) {
    _mm_storeu_ps(d, _mm256_castps256_ps128(v));
    _mm_storel_pi(reinterpret_cast<__m64*>(d + 4), _mm256_extractf128_ps(v, 1));
  } else {
    alignas(32) float t[8];
    _mm256_store_ps(t, v);
    for (int i = 0; i < n; ++i) d[i] = t[i];
  }
}
#endif

// dst[k * R + r] = src[r * ld + k] for r < h, 0 for h <= r < R, k < kc: R rows that run along k
// are interleaved (a row-major A block, a transposed B panel). 8x8 in-register transposes where
// the ISA has AVX; a scalar loop for the K remainder and elsewhere. Packing only moves values,
// so results do not depend on which path ran.
template <int R>
static void pack_interleave(const float* src, int64_t ld, int64_t h, int64_t kc, float* dst) {
  int64_t k = 0;
#if defined(__AVX__)
  for (; k + 8 <= kc; k += 8) {
    for (int r0 = 0; r0 < R; r0 += 8) {
      __m256 v[8];
      for (int r = 0; r < 8; ++r) v[r] = r0 + r < h ? _mm256_loadu_ps(src + (r0 + r) * ld + k) : _mm256_setzero_ps();
      transpose8(v);
      const int lanes = R - r0 < 8 ? R - r0 : 8;
      for (int t = 0; t < 8; ++t) store_lanes(dst + (k + t) * R + r0, v[t], lanes);
    }
  }
#endif
  for (; k < kc; ++k) {
    for (int64_t r = 0; r < h; ++r) dst[k * R + r] = src[r * ld + k];
    for (int64_t r = h; r < R; ++r) dst[k * R + r] = 0.0f;
  }
}

// dst[k * R + r] = src[k * ld + r] for r < h, 0 for h <= r < R, k < kc: R contiguous values per k
// (a transposed A block, a row-major B panel). A fixed-size copy per k (vector moves; a memcpy
// call of 24-64 bytes per k cost as much as the copy).
template <int R>
static void pack_copy(const float* src, int64_t ld, int64_t h, int64_t kc, float* dst) {
  if (h == R) {
    for (int64_t k = 0; k < kc; ++k)
      for (int r = 0; r < R; ++r) dst[k * R + r] = src[k * ld + r];
    return;
  }
  for (int64_t k = 0; k < kc; ++k) {
    for (int64_t r = 0; r < h; ++r) dst[k * R + r] = src[k * ld + r];
    for (int64_t r = h; r < R; ++r) dst[k * R + r] = 0.0f;
  }
}

// B panel [kc x nc] from (pc, jc), in NR-wide micro-panels: dst[jp * kc + k * NR + j].
template <int NR>
static void pack_b(const GemmArgs& g, int64_t pc, int64_t kc, int64_t jc, int64_t nc, float* dst) {
  for (int64_t jp = 0; jp < nc; jp += NR) {
    const int64_t w = std::min<int64_t>(NR, nc - jp);
    const float* src = g.B + pc * g.rsB + (jc + jp) * g.csB;
    if (g.csB == 1)
      pack_copy<NR>(src, g.rsB, w, kc, dst + jp * kc);
    else
      pack_interleave<NR>(src, g.csB, w, kc, dst + jp * kc);  // rsB == 1: B transposed
  }
}

// A block [mc x kc] from (ic, pc), in MR-tall micro-panels: dst[ip * kc + k * MR + i].
template <int MR>
static void pack_a(const GemmArgs& g, int64_t ic, int64_t mc, int64_t pc, int64_t kc, float* dst) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    const int64_t h = std::min<int64_t>(MR, mc - ip);
    const float* src = g.A + (ic + ip) * g.rsA + pc * g.csA;
    if (g.rsA == 1)
      pack_copy<MR>(src, g.csA, h, kc, dst + ip * kc);  // A transposed
    else
      pack_interleave<MR>(src, g.rsA, h, kc, dst + ip * kc);  // csA == 1
  }
}

template <class UK>
static void gemm_block_t(const GemmArgs& g) {
  constexpr int MR = UK::MR, NR = UK::NR;
  constexpr int64_t KC = UK::KC, MC = UK::MC, NC = UK::NC;
  if (g.M <= 0 || g.N <= 0) return;
  if (g.K <= 0) {
    for (int64_t i = 0; i < g.M; ++i) std::memset(g.C + i * g.ldc, 0, g.N * sizeof(float));
    return;
  }
  static thread_local PackBuffers buf;
  const int64_t kc_max = std::min<int64_t>(KC, g.K);
  const int64_t nc_max = std::min<int64_t>(NC, (g.N + NR - 1) / NR * NR);
  const int64_t mc_max = std::min<int64_t>(MC, (g.M + MR - 1) / MR * MR);
  buf.b = PackBuffers::grow(buf.b, buf.b_cap, kc_max * nc_max);
  buf.a = PackBuffers::grow(buf.a, buf.a_cap, kc_max * mc_max);
  alignas(64) float edge[MR * NR];
  const bool one_k = g.K <= KC;

  for (int64_t jc = 0; jc < g.N; jc += NC) {
    const int64_t nc = std::min<int64_t>(NC, g.N - jc);
    for (int64_t pc = 0; pc < g.K; pc += KC) {
      const int64_t kc = std::min<int64_t>(KC, g.K - pc);
      const bool acc = pc > 0;
      pack_b<NR>(g, pc, kc, jc, nc, buf.b);
      for (int64_t ic = 0; ic < g.M; ic += MC) {
        const int64_t mc = std::min<int64_t>(MC, g.M - ic);
        pack_a<MR>(g, ic, mc, pc, kc, buf.a);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t w = std::min<int64_t>(NR, nc - jr);
          const float* bp = buf.b + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t h = std::min<int64_t>(MR, mc - ir);
            const int64_t i0 = ic + ir;
            // The panel's part of K (all of it unless a causal structure makes the rest zero).
            int64_t k0 = 0, k1 = kc;
            if (g.tri == kTriCols && jc + jr > i0 + h - 1 + g.tri_off) continue;
            if (g.tri == kTriLowerK && one_k) k1 = std::clamp<int64_t>(i0 + h + g.tri_off, 0, kc);
            if (g.tri == kTriUpperK && one_k) k0 = std::clamp<int64_t>(i0 - g.tri_off, 0, kc);
            const float* ap = buf.a + ir * kc + k0 * MR;
            float* c = g.C + i0 * g.ldc + (jc + jr);
            if (h == MR && w == NR) {
              UK::run(k1 - k0, ap, bp + k0 * NR, c, g.ldc, acc);
            } else {
              UK::run(k1 - k0, ap, bp + k0 * NR, edge, NR, false);
              for (int64_t i = 0; i < h; ++i) {
                float* ci = c + i * g.ldc;
                const float* ei = edge + i * NR;
                if (acc)
                  for (int64_t j = 0; j < w; ++j) ci[j] += ei[j];
                else
                  std::memcpy(ci, ei, w * sizeof(float));
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace SL_ISA_NS
}  // namespace sl
