// The per-ISA kernel table. Each kernels_<isa>.cc compiles kernels_impl.h with its own -m flags
// and exports one KernelTable; dispatch.cc picks the best table the running CPU supports
// (cpuid), so the addon never assumes AVX-512 or AVX2 at build time.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sl {

// One single-threaded GEMM block: C[M,N] = A[M,K] * B[K,N] (overwrites C).
// A(i,k) = A[i*rsA + k*csA], B(k,j) = B[k*rsB + j*csB]: transposes are strides.
struct GemmArgs {
  int64_t M, N, K;
  const float* A;
  int64_t rsA, csA;
  const float* B;
  int64_t rsB, csB;
  float* C;
  int64_t ldc;
  // Causal structure the product may skip (attention, fused_ops.cc), with o = tri_off:
  // kTriCols: only C(i, j) for j <= i + o is needed (tiles wholly past it are not written);
  // kTriLowerK: A(i, k) = 0 for k > i + o; kTriUpperK: A(i, k) = 0 for k < i - o (both skip the
  // zero part of K where all of it fits one K block, else run dense).
  int tri = 0;
  int64_t tri_off = 0;
};
enum GemmTri : int { kTriNone = 0, kTriCols, kTriLowerK, kTriUpperK };

enum BinaryOp : int { kAdd = 0, kSub, kMul, kDiv, kMax, kMin, kSqDiff, kPow };
// mode: 0 = both vectors, 1 = a is a scalar, 2 = b is a scalar.
enum BinaryMode : int { kVecVec = 0, kScalarVec = 1, kVecScalar = 2 };

enum UnaryOp : int {
  kExp = 0, kLog, kSqrt, kRsqrt, kTanh, kSigmoid, kRelu, kRelu6, kNeg, kSquare, kAbs,
  kReciprocal, kErf, kLeakyRelu, kElu, kStep
};

enum ReduceOp : int { kSum = 0, kMaxR, kMinR, kMean };

// Fused matmul activations, codes shared with the JS side (fused_matmul.ts).
enum Activation : int { kLinear = 0, kActRelu, kActRelu6, kActSigmoid, kActLeakyRelu, kActElu };

struct KernelTable {
  const char* name;
  int gemm_mr, gemm_nr;
  void (*gemm_block)(const GemmArgs&);
  void (*binary)(int op, int mode, const float* a, const float* b, float* out, int64_t n);
  void (*unary)(int op, const float* x, float* out, int64_t n, float alpha);
  // Softmax over each row of `cols` values; log != 0 gives log-softmax.
  void (*softmax_rows)(const float* x, float* out, int64_t rows, int64_t cols, int log);
  // out[o] = reduce_r x[o*R + r]
  void (*reduce_inner)(int op, const float* x, float* out, int64_t outer, int64_t R);
  // out[o*inner + i] = reduce_r x[(o*R + r)*inner + i] for i < width (width <= inner lets the
  // caller split the columns between threads).
  void (*reduce_mid)(int op, const float* x, float* out, int64_t outer, int64_t R, int64_t inner, int64_t width);
  // Vector-matrix products (M = 1): out[j] = sum_k x[k] * B[k*ldb + j] for j < n (rows form),
  // out[j] = sum_k x[k] * B[j*ldb + k] (dots form, B transposed).
  void (*gemv_rows)(const float* x, const float* B, int64_t K, int64_t n, int64_t ldb, float* out);
  void (*gemv_dots)(const float* x, const float* B, int64_t K, int64_t n, int64_t ldb, float* out);
  // c[r, :] = act(c[r, :] + bias[:]) (bias may be null), alpha for leaky relu.
  void (*bias_act)(float* c, const float* bias, int64_t rows, int64_t cols, int act, float alpha);
  // Fused ops (fused_impl.h documents each).
  void (*norm_rows)(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                    int64_t rows, int64_t cols, float eps, int center);
  void (*norm_grad_rows)(const float* dy, const float* x, const float* gamma, float* dx, float* mean, float* rstd,
                         int64_t rows, int64_t cols, float eps, int center);
  void (*norm_param_grad)(const float* dy, const float* x, const float* mean, const float* rstd, float* dgamma,
                          float* dbeta, int64_t rows, int64_t ld, int64_t width);
  void (*xent_rows)(const float* logits, const int32_t* targets, float* nll, float* valid, int64_t rows, int64_t V,
                    int32_t ignore);
  void (*xent_grad_rows)(const float* logits, const int32_t* targets, float* dl, int64_t rows, int64_t V,
                         int32_t ignore, float scale, float gamma);
  void (*masked_softmax_row)(const float* x, const float* bias, int64_t bias_step, float* y, int64_t cols,
                             float scale, int64_t visible);
  void (*softmax_grad_rows)(const float* dy, const float* y, float* dx, int64_t rows, int64_t cols, float scale);
  void (*attn_probs_row)(float* s, const float* bias, int64_t bias_step, int64_t cols, float scale,
                         int64_t visible);
  void (*gelu_rows)(const float* x, const float* bias, float* y, int64_t rows, int64_t cols);
  void (*gelu_grad_rows)(const float* dy, const float* x, const float* bias, float* dx, int64_t rows, int64_t cols);
  void (*adamw)(const float* p, const float* m, const float* v, const float* g, float* po, float* mo, float* vo,
                int64_t n, const float* scalars);
};

extern const KernelTable kTableAvx512;
extern const KernelTable kTableAvx2;
extern const KernelTable kTableGeneric;

}  // namespace sl
