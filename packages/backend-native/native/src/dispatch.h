// The addon's C++ API: picks the kernel table for the running CPU, owns the thread pool and
// splits every operation into tasks. All pointers are float32 (or 4-byte) contiguous buffers.
#pragma once
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels.h"

namespace sl {

const KernelTable& table();
// Names of the tables this CPU can run, best first ("avx512", "avx2", "generic").
std::vector<std::string> supported_simd();
bool set_simd(const std::string& name);
int threads();
void set_threads(int n);

// C[b] = op(A[batchA[b]]) * op(B[batchB[b]]) for b < batch; each matrix is dense row-major.
void matmul(const float* A, const float* B, float* C, int64_t batch, const int32_t* batchA, const int32_t* batchB,
            int64_t M, int64_t N, int64_t K, bool transA, bool transB);
void bias_act(float* c, const float* bias, int64_t rows, int64_t cols, int act, float alpha);
// out = a op b with broadcasting: shape is out's shape, sa/sb the element strides of a and b
// for each of out's dims (0 where that input is broadcast).
void binary(int op, const float* a, const float* b, float* out, int rank, const int64_t* shape, const int64_t* sa,
            const int64_t* sb);
void unary(int op, const float* x, float* out, int64_t n, float alpha);
void softmax(const float* x, float* out, int64_t rows, int64_t cols, int log);
// x viewed as [outer, R, inner], reduced over R.
void reduce(int op, const float* x, float* out, int64_t outer, int64_t R, int64_t inner);

// Layout ops on 4-byte elements (layout_ops.cc).
void transpose(const uint32_t* x, uint32_t* out, int rank, const int64_t* shape, const int64_t* perm);
// Returns -1, or the position in idx of the first index outside [0, axis).
int64_t gather(const uint32_t* x, const int32_t* idx, uint32_t* out, int64_t outer, int64_t axis, int64_t inner,
               int64_t nidx);
void segment_sum(const float* x, const int32_t* ids, float* out, int64_t n, int64_t num_segments, int64_t inner);
void slice(const uint32_t* x, uint32_t* out, int rank, const int64_t* shape, const int64_t* begin,
           const int64_t* size);
// out (out_shape) = fill everywhere, with x (shape) written at offset `before` in each dim.
void pad(const uint32_t* x, uint32_t* out, int rank, const int64_t* shape, const int64_t* before,
         const int64_t* out_shape, uint32_t fill);
// dst[r*dst_stride + j] = src[r*src_stride + j] for r < rows, j < width.
void copy_rows(const uint32_t* src, int64_t src_stride, uint32_t* dst, int64_t dst_stride, int64_t rows, int64_t width);

// split: dst [B, H, len, hd] = the columns [col0, col0 + H * hd) of src [B * len, width] (+ bias
// [H * hd], may be null); !split: the inverse copy (bias unused), other columns of dst untouched.
void heads(const float* src, float* dst, int64_t B, int64_t len, int64_t H, int64_t hd, int64_t width, int64_t col0,
           const float* bias, bool split);

// Splits [0, n) into chunks of at least `grain` and runs them on the pool.
void parallel_ranges(int64_t n, int64_t grain, void (*body)(void*, int64_t, int64_t), void* ctx);

// parallel_ranges with a callable f(begin, end).
template <class F>
void for_ranges(int64_t n, int64_t grain, F&& f) {
  parallel_ranges(
      n, grain, [](void* c, int64_t b, int64_t e) { (*static_cast<std::remove_reference_t<F>*>(c))(b, e); }, &f);
}

// Below this many floats a task isn't worth a wake-up.
constexpr int64_t kElementGrain = 1 << 15;

// Fused ops (fused_ops.cc; the row kernels in fused_impl.h say what each computes).
void norm(const float* x, const float* gamma, const float* beta, float* y, int64_t rows, int64_t cols, float eps,
          int center);
void norm_grad(const float* dy, const float* x, const float* gamma, float* dx, float* dgamma, float* dbeta,
               int64_t rows, int64_t cols, float eps, int center);
// Mean cross-entropy (gamma 0) or focal loss (focal.h) over the rows whose target != ignore.
float xent(const float* logits, const int32_t* targets, int64_t rows, int64_t V, int32_t ignore, float gamma);
void xent_grad(float dy, const float* logits, const int32_t* targets, float* dl, int64_t rows, int64_t V,
               int32_t ignore, float gamma);
// x, y: [B, H, Q, KV]; bias (may be null) seen through element strides sb[4] (0 on broadcast dims).
void masked_softmax(const float* x, const float* bias, const int64_t* sb, float* y, int64_t B, int64_t H, int64_t Q,
                    int64_t KV, float scale, bool causal, int64_t offset);
void softmax_grad(const float* dy, const float* y, float* dx, int64_t rows, int64_t cols, float scale);
// Scaled dot-product attention, one fused pass per (batch, head): q [B, H, Q, D], k [B, H, KV,
// D], v [B, H, KV, Dv] -> out [B, H, Q, Dv] and probs [B, H, Q, KV] (saved for the backward);
// bias (may be null) is seen through element strides sb[4] like masked_softmax's, with sb[3] 0
// or 1. `biased` says whether the forward had a bias (the backward gets no bias, only that).
struct AttnShape {
  int64_t B, H, Q, KV, D, Dv;
  float scale;
  bool causal;
  int64_t offset;
  bool biased;
  const float* bias;
  const int64_t* sb;
};
void attention(const AttnShape& a, const float* q, const float* k, const float* v, float* out, float* probs);
// Gradients of attention() from dout [B, H, Q, Dv] and its probs.
void attention_grad(const AttnShape& a, const float* dout, const float* q, const float* k, const float* v,
                    const float* probs, float* dq, float* dk, float* dv);
void gelu(const float* x, const float* bias, float* y, int64_t rows, int64_t cols);
void gelu_grad(const float* dy, const float* x, const float* bias, float* dx, int64_t rows, int64_t cols);
void adamw(const float* p, const float* m, const float* v, const float* g, float* po, float* mo, float* vo, int64_t n,
           const float* scalars);

}  // namespace sl
