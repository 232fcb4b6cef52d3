// Optional system OpenBLAS, loaded at run time with dlopen (never linked): when a user opts in
// (setNativeBlas('openblas') / SENTENCELAB_NATIVE_BLAS=openblas), GEMM goes to cblas_sgemm.
// The built-in kernels stay the default, so results never depend on what is installed.
#pragma once
#include <cstdint>
#include <string>

namespace sl {

// Loads libopenblas once; returns "" on success, else why it is unavailable.
std::string openblas_load();
bool openblas_active();
// Switches GEMM between OpenBLAS (true) and the built-in kernels (false); "" or the reason.
std::string openblas_use(bool on, int threads);
// C[b] = op(A) op(B) through cblas_sgemm (row-major); only when openblas_active().
void openblas_sgemm(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K, bool transA,
                    bool transB);

}  // namespace sl
