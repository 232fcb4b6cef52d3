// The addon's C++ API: picks the kernel table for the running CPU, owns the thread pool and
// splits every operation into tasks. All pointers are float32 (or 4-byte) contiguous buffers.
#pragma once
#include <cstdint>
#include <string>
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

// Splits [0, n) into chunks of at least `grain` and runs them on the pool.
void parallel_ranges(int64_t n, int64_t grain, void (*body)(void*, int64_t, int64_t), void* ctx);

}  // namespace sl
