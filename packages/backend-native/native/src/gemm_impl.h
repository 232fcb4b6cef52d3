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

template <int NR>
static void pack_b(const GemmArgs& g, int64_t pc, int64_t kc, int64_t jc, int64_t nc, float* dst) {
  for (int64_t jp = 0; jp < nc; jp += NR) {
    const int64_t w = std::min<int64_t>(NR, nc - jp);
    float* d = dst + jp * kc;
    if (g.csB == 1) {
      const float* src = g.B + pc * g.rsB + (jc + jp);
      for (int64_t k = 0; k < kc; ++k) {
        std::memcpy(d + k * NR, src + k * g.rsB, w * sizeof(float));
        for (int64_t j = w; j < NR; ++j) d[k * NR + j] = 0.0f;
      }
    } else {
      for (int64_t j = 0; j < w; ++j) {
        const float* src = g.B + pc * g.rsB + (jc + jp + j) * g.csB;
        for (int64_t k = 0; k < kc; ++k) d[k * NR + j] = src[k * g.rsB];
      }
      for (int64_t j = w; j < NR; ++j)
        for (int64_t k = 0; k < kc; ++k) d[k * NR + j] = 0.0f;
    }
  }
}

template <int MR>
static void pack_a(const GemmArgs& g, int64_t ic, int64_t mc, int64_t pc, int64_t kc, float* dst) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    const int64_t h = std::min<int64_t>(MR, mc - ip);
    float* d = dst + ip * kc;
    if (g.rsA == 1) {
      const float* src = g.A + (ic + ip) + pc * g.csA;
      for (int64_t k = 0; k < kc; ++k) {
        std::memcpy(d + k * MR, src + k * g.csA, h * sizeof(float));
        for (int64_t i = h; i < MR; ++i) d[k * MR + i] = 0.0f;
      }
    } else {
      for (int64_t i = 0; i < h; ++i) {
        const float* src = g.A + (ic + ip + i) * g.rsA + pc * g.csA;
        for (int64_t k = 0; k < kc; ++k) d[k * MR + i] = src[k * g.csA];
      }
      for (int64_t i = h; i < MR; ++i)
        for (int64_t k = 0; k < kc; ++k) d[k * MR + i] = 0.0f;
    }
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
            const float* ap = buf.a + ir * kc;
            float* c = g.C + (ic + ir) * g.ldc + (jc + jr);
            if (h == MR && w == NR) {
              UK::run(kc, ap, bp, c, g.ldc, acc);
            } else {
              UK::run(kc, ap, bp, edge, NR, false);
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
