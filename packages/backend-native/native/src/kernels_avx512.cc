// AVX-512 kernels: a 14x32 FMA micro-kernel (28 zmm accumulators) + 16-wide element-wise code.
#define SL_ISA_NS avx512
#define SL_VBYTES 64
#include <immintrin.h>

#include "elementwise_impl.h"
#include "fused_impl.h"
#include "gemm_impl.h"

// Cache blocking (see gemm_impl.h); overridable at build time for tuning experiments.
#ifndef SL_AVX512_KC
#define SL_AVX512_KC 256
#endif
#ifndef SL_AVX512_MC
#define SL_AVX512_MC (14 * 12)
#endif
#ifndef SL_AVX512_NC
#define SL_AVX512_NC 1024
#endif

namespace sl {
namespace avx512 {

struct Micro {
  static constexpr int MR = 14, NR = 32;
  static constexpr int64_t KC = SL_AVX512_KC, MC = SL_AVX512_MC, NC = SL_AVX512_NC;
  static inline void run(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc,
                         bool acc) {
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
    // The C tile is read (acc) or written after the K loop: fetch its lines meanwhile (with K
    // blocks, C is updated once per block and has left L2 between two updates).
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) {
      const float* ci = c + i * ldc;
      _mm_prefetch(reinterpret_cast<const char*>(ci), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ci + 16), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ci + 31), _MM_HINT_T0);
    }
    for (int64_t k = 0; k < kc; ++k) {
      const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
      _mm_prefetch(reinterpret_cast<const char*>(b + 4 * NR), _MM_HINT_T0);
#pragma GCC unroll 14
      for (int i = 0; i < MR; ++i) {
        const __m512 av = _mm512_set1_ps(a[i]);
        c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
        c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
      }
      a += MR;
      b += NR;
    }
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) {
      float* ci = c + i * ldc;
      if (acc) {
        c0[i] = _mm512_add_ps(c0[i], _mm512_loadu_ps(ci));
        c1[i] = _mm512_add_ps(c1[i], _mm512_loadu_ps(ci + 16));
      }
      _mm512_storeu_ps(ci, c0[i]);
      _mm512_storeu_ps(ci + 16, c1[i]);
    }
  }
};

static void gemm_block(const GemmArgs& g) { gemm_block_t<Micro>(g); }

}  // namespace avx512

const KernelTable kTableAvx512 = {"avx512",         avx512::Micro::MR,    avx512::Micro::NR,    avx512::gemm_block,
                                  avx512::binary,   avx512::unary,        avx512::softmax_rows, avx512::reduce_inner,
                                  avx512::reduce_mid, avx512::gemv_rows, avx512::gemv_dots, avx512::bias_act,
    avx512::norm_rows, avx512::norm_grad_rows, avx512::norm_param_grad, avx512::xent_rows, avx512::xent_grad_rows,
    avx512::masked_softmax_row, avx512::softmax_grad_rows, avx512::attn_probs_row, avx512::gelu_rows, avx512::gelu_grad_rows, avx512::adamw};

}  // namespace sl
