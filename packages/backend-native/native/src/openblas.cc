#include "openblas.h"

#include <dlfcn.h>

namespace sl {
namespace {

using sgemm_fn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                          int);
using threads_fn = void (*)(int);

sgemm_fn g_sgemm = nullptr;
threads_fn g_set_threads = nullptr;
std::string g_error;
bool g_tried = false;
bool g_active = false;

constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

}  // namespace

std::string openblas_load() {
  if (g_tried) return g_error;
  g_tried = true;
  void* h = nullptr;
  for (const char* name : {"libopenblas.so.0", "libopenblas.so"}) {
    h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (h) break;
  }
  if (!h) {
    g_error = "libopenblas.so.0 not found (install e.g. the Debian package libopenblas0-pthread)";
    return g_error;
  }
  g_sgemm = reinterpret_cast<sgemm_fn>(dlsym(h, "cblas_sgemm"));
  g_set_threads = reinterpret_cast<threads_fn>(dlsym(h, "openblas_set_num_threads"));
  if (!g_sgemm) g_error = "libopenblas has no cblas_sgemm symbol";
  return g_error;
}

bool openblas_active() { return g_active; }

std::string openblas_use(bool on, int threads) {
  if (!on) {
    g_active = false;
    return "";
  }
  std::string why = openblas_load();
  if (!why.empty()) return why;
  if (g_set_threads) g_set_threads(threads);
  g_active = true;
  return "";
}

void openblas_sgemm(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K, bool transA,
                    bool transB) {
  g_sgemm(kRowMajor, transA ? kTrans : kNoTrans, transB ? kTrans : kNoTrans, static_cast<int>(M), static_cast<int>(N),
          static_cast<int>(K), 1.0f, A, static_cast<int>(transA ? M : K), B, static_cast<int>(transB ? K : N), 0.0f, C,
          static_cast<int>(N));
}

}  // namespace sl
