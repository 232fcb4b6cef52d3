// Portable kernels (no -m flags: SSE2 on x86-64, NEON/other on other targets through GCC vectors).
#define SL_ISA_NS generic
#define SL_VBYTES 16

#include "elementwise_impl.h"
#include "fused_impl.h"
#include "gemm_impl.h"

namespace sl {
namespace generic {

struct Micro {
  static constexpr int MR = 4, NR = 8;
  static constexpr int64_t KC = 256, MC = 4 * 32, NC = 512;
  static inline void run(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc,
                         bool acc) {
    vf c0[MR], c1[MR];
    for (int i = 0; i < MR; ++i) c0[i] = c1[i] = splat(0.0f);
    for (int64_t k = 0; k < kc; ++k) {
      const vf b0 = vload(b), b1 = vload(b + 4);
      for (int i = 0; i < MR; ++i) {
        c0[i] += a[i] * b0;
        c1[i] += a[i] * b1;
      }
      a += MR;
      b += NR;
    }
    for (int i = 0; i < MR; ++i) {
      float* ci = c + i * ldc;
      if (acc) {
        c0[i] += vload(ci);
        c1[i] += vload(ci + 4);
      }
      vstore(ci, c0[i]);
      vstore(ci + 4, c1[i]);
    }
  }
};

static void gemm_block(const GemmArgs& g) { gemm_block_t<Micro>(g); }

}  // namespace generic

const KernelTable kTableGeneric = {"generic",         generic::Micro::MR,    generic::Micro::NR,
                                   generic::gemm_block, generic::binary,     generic::unary,
                                   generic::softmax_rows, generic::reduce_inner, generic::reduce_mid,
                                   generic::gemv_rows, generic::gemv_dots, generic::bias_act,
    generic::norm_rows, generic::norm_grad_rows, generic::norm_param_grad, generic::xent_rows, generic::xent_grad_rows,
    generic::masked_softmax_row, generic::softmax_grad_rows, generic::attn_probs_row, generic::gelu_rows, generic::gelu_grad_rows, generic::adamw};

}  // namespace sl
