// AVX2 + FMA kernels: a 6x16 micro-kernel (12 ymm accumulators) + 8-wide element-wise code.
#define SL_ISA_NS avx2
#define SL_VBYTES 32
#include <immintrin.h>

#include "elementwise_impl.h"
#include "fused_impl.h"
#include "gemm_impl.h"

// Cache blocking (see gemm_impl.h); overridable at build time for tuning experiments.
#ifndef SL_AVX2_KC
#define SL_AVX2_KC 256
#endif
#ifndef SL_AVX2_MC
#define SL_AVX2_MC (6 * 24)
#endif
#ifndef SL_AVX2_NC
#define SL_AVX2_NC 1024
#endif

namespace sl {
namespace avx2 {

struct Micro {
  static constexpr int MR = 6, NR = 16;
  static constexpr int64_t KC = SL_AVX2_KC, MC = SL_AVX2_MC, NC = SL_AVX2_NC;
  static inline void run(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc,
                         bool acc) {
    __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
    // The C tile is read (acc) or written after the K loop: fetch its lines meanwhile (with K
    // blocks, C is updated once per block and has left L2 between two updates).
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const float* ci = c + i * ldc;
      _mm_prefetch(reinterpret_cast<const char*>(ci), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ci + 15), _MM_HINT_T0);
    }
    for (int64_t k = 0; k < kc; ++k) {
      const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) {
        const __m256 av = _mm256_broadcast_ss(a + i);
        c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
        c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
      }
      a += MR;
      b += NR;
    }
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      float* ci = c + i * ldc;
      if (acc) {
        c0[i] = _mm256_add_ps(c0[i], _mm256_loadu_ps(ci));
        c1[i] = _mm256_add_ps(c1[i], _mm256_loadu_ps(ci + 8));
      }
      _mm256_storeu_ps(ci, c0[i]);
      _mm256_storeu_ps(ci + 8, c1[i]);
    }
  }
};

static void gemm_block(const GemmArgs& g) { gemm_block_t<Micro>(g); }

}  // namespace avx2

const KernelTable kTableAvx2 = {"avx2",         avx2::Micro::MR,    avx2::Micro::NR,    avx2::gemm_block,
                                avx2::binary,   avx2::unary,        avx2::softmax_rows, avx2::reduce_inner,
                                avx2::reduce_mid, avx2::gemv_rows, avx2::gemv_dots, avx2::bias_act,
    avx2::norm_rows, avx2::norm_grad_rows, avx2::norm_param_grad, avx2::xent_rows, avx2::xent_grad_rows,
    avx2::masked_softmax_row, avx2::softmax_grad_rows, avx2::attn_probs_row, avx2::gelu_rows, avx2::gelu_grad_rows, avx2::adamw};

}  // namespace sl
