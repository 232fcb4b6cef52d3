// Element-wise, softmax and reduction kernels, compiled once per ISA (see kernels_<isa>.cc).
// Every function works on a contiguous range; threading is the caller's job (dispatch.cc).
#pragma once
#include <cmath>
#include <cstring>

#include "kernels.h"
#include "vec_math.h"

namespace sl {
namespace SL_ISA_NS {

// Applies f to every vector of x; the tail goes through a zero-padded vector.
template <class F>
static inline void map1(const float* x, float* out, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 2 * VW <= n; i += 2 * VW) {
    vf a = vload(x + i), b = vload(x + i + VW);
    vstore(out + i, f(a));
    vstore(out + i + VW, f(b));
  }
  for (; i + VW <= n; i += VW) vstore(out + i, f(vload(x + i)));
  if (i < n) {
    float tmp[VW] = {};
    std::memcpy(tmp, x + i, (n - i) * sizeof(float));
    vstore(tmp, f(vload(tmp)));
    std::memcpy(out + i, tmp, (n - i) * sizeof(float));
  }
}

template <class F>
static inline void map2(int mode, const float* a, const float* b, float* out, int64_t n, F f) {
  if (mode == kScalarVec) {
    vf av = splat(a[0]);
    map1(b, out, n, [&](vf bv) { return f(av, bv); });
  } else if (mode == kVecScalar) {
    vf bv = splat(b[0]);
    map1(a, out, n, [&](vf av) { return f(av, bv); });
  } else {
    int64_t i = 0;
    for (; i + VW <= n; i += VW) vstore(out + i, f(vload(a + i), vload(b + i)));
    if (i < n) {
      float ta[VW] = {}, tb[VW] = {};
      std::memcpy(ta, a + i, (n - i) * sizeof(float));
      std::memcpy(tb, b + i, (n - i) * sizeof(float));
      vstore(ta, f(vload(ta), vload(tb)));
      std::memcpy(out + i, ta, (n - i) * sizeof(float));
    }
  }
}

// JS Math.pow semantics (pow(1, NaN) and pow(-1, +-Inf) are NaN, unlike C's powf).
static inline float js_pow(float x, float y) {
  if (y != y) return y;
  if ((x == 1.0f || x == -1.0f) && __builtin_isinf(y)) return __builtin_nanf("");
  return __builtin_powf(x, y);
}

static void pow_kernel(int mode, const float* a, const float* b, float* out, int64_t n) {
  if (mode == kVecScalar) {
    // Small integer exponents (x^2, x^3 in GELU and its gradient) as products.
    const float e = b[0];
    if (e == 2.0f) return map1(a, out, n, [](vf x) { return x * x; });
    if (e == 3.0f) return map1(a, out, n, [](vf x) { return x * x * x; });
    if (e == 1.0f) return map1(a, out, n, [](vf x) { return x; });
    if (e == -1.0f) return map1(a, out, n, [](vf x) { return 1.0f / x; });
  }
  for (int64_t i = 0; i < n; ++i)
    out[i] = js_pow(mode == kScalarVec ? a[0] : a[i], mode == kVecScalar ? b[0] : b[i]);
}

static void binary(int op, int mode, const float* a, const float* b, float* out, int64_t n) {
  switch (op) {
    case kAdd: return map2(mode, a, b, out, n, [](vf x, vf y) { return x + y; });
    case kSub: return map2(mode, a, b, out, n, [](vf x, vf y) { return x - y; });
    case kMul: return map2(mode, a, b, out, n, [](vf x, vf y) { return x * y; });
    case kDiv: return map2(mode, a, b, out, n, [](vf x, vf y) { return x / y; });
    case kMax: return map2(mode, a, b, out, n, [](vf x, vf y) { return vmax_nan(x, y); });
    case kMin: return map2(mode, a, b, out, n, [](vf x, vf y) { return vmin_nan(x, y); });
    case kSqDiff:
      return map2(mode, a, b, out, n, [](vf x, vf y) {
        vf d = x - y;
        return d * d;
      });
    case kPow: return pow_kernel(mode, a, b, out, n);
  }
}

static inline vf relu6(vf x) {
  vf r = vsel(x < splat(0.0f), splat(0.0f), x);
  return vsel(r > splat(6.0f), splat(6.0f), r);
}

static void unary(int op, const float* x, float* out, int64_t n, float alpha) {
  switch (op) {
    case kExp: return map1(x, out, n, [](vf v) { return vexp(v); });
    case kLog: return map1(x, out, n, [](vf v) { return vlog(v); });
    case kSqrt: return map1(x, out, n, [](vf v) { return vsqrt(v); });
    case kRsqrt: return map1(x, out, n, [](vf v) { return 1.0f / vsqrt(v); });
    case kTanh: return map1(x, out, n, [](vf v) { return vtanh(v); });
    case kSigmoid: return map1(x, out, n, [](vf v) { return vsigmoid(v); });
    case kRelu: return map1(x, out, n, [](vf v) { return vsel(v < splat(0.0f), splat(0.0f), v); });
    case kRelu6: return map1(x, out, n, [](vf v) { return relu6(v); });
    case kNeg: return map1(x, out, n, [](vf v) { return -v; });
    case kSquare: return map1(x, out, n, [](vf v) { return v * v; });
    case kAbs: return map1(x, out, n, [](vf v) { return vsel(v < splat(0.0f), -v, v); });
    case kReciprocal: return map1(x, out, n, [](vf v) { return 1.0f / v; });
    case kErf: return map1(x, out, n, [](vf v) { return verf(v); });
    case kLeakyRelu: {
      vf al = splat(alpha);
      return map1(x, out, n, [al](vf v) { return vsel(v < splat(0.0f), v * al, v); });
    }
    case kElu: return map1(x, out, n, [](vf v) { return vsel(v < splat(0.0f), vexp(v) - 1.0f, v); });
    case kStep: {
      // ReLU's gradient mask: 1 above 0, else alpha; NaN stays NaN (as tfjs's cpu kernel).
      vf al = splat(alpha);
      return map1(x, out, n, [al](vf v) { return vsel(v != v, v, vsel(v > splat(0.0f), splat(1.0f), al)); });
    }
  }
}

static inline float hsum(vf v) {
  float t[VW];
  vstore(t, v);
  float s = 0;
  for (int i = 0; i < VW; ++i) s += t[i];
  return s;
}
static inline float hmax_nan(vf v) {
  float t[VW];
  vstore(t, v);
  float m = t[0];
  for (int i = 1; i < VW; ++i) m = (t[i] > m || t[i] != t[i]) && m == m ? t[i] : m;
  return m;
}
static inline float hmin_nan(vf v) {
  float t[VW];
  vstore(t, v);
  float m = t[0];
  for (int i = 1; i < VW; ++i) m = (t[i] < m || t[i] != t[i]) && m == m ? t[i] : m;
  return m;
}

// Reduces one contiguous row; the padding value is the identity of op.
template <int op>
static inline float reduce_row_t(const float* x, int64_t n) {
  const float inf = __builtin_inff();
  float pad = op == kMaxR ? -inf : op == kMinR ? inf : 0.0f;
  vf acc0 = splat(pad), acc1 = splat(pad);
  int64_t i = 0;
  auto step = [](vf acc, vf v) {
    return op == kMaxR ? vmax_nan(acc, v) : op == kMinR ? vmin_nan(acc, v) : acc + v;
  };
  for (; i + 2 * VW <= n; i += 2 * VW) {
    acc0 = step(acc0, vload(x + i));
    acc1 = step(acc1, vload(x + i + VW));
  }
  for (; i + VW <= n; i += VW) acc0 = step(acc0, vload(x + i));
  if (i < n) {
    float t[VW];
    for (int k = 0; k < VW; ++k) t[k] = i + k < n ? x[i + k] : pad;
    acc1 = step(acc1, vload(t));
  }
  vf acc = step(acc0, acc1);
  if (op == kMaxR) return hmax_nan(acc);
  if (op == kMinR) return hmin_nan(acc);
  float s = hsum(acc);
  return op == kMean ? s / static_cast<float>(n) : s;
}

static inline float reduce_row(int op, const float* x, int64_t n) {
  switch (op) {
    case kMaxR: return reduce_row_t<kMaxR>(x, n);
    case kMinR: return reduce_row_t<kMinR>(x, n);
    case kMean: return reduce_row_t<kMean>(x, n);
    default: return reduce_row_t<kSum>(x, n);
  }
}

static void reduce_inner(int op, const float* x, float* out, int64_t outer, int64_t R) {
  for (int64_t o = 0; o < outer; ++o) out[o] = reduce_row(op, x + o * R, R);
}

static void reduce_mid(int op, const float* x, float* out, int64_t outer, int64_t R, int64_t inner, int64_t width) {
  for (int64_t o = 0; o < outer; ++o) {
    float* dst = out + o * inner;
    const float* src = x + o * R * inner;
    if (R == 0) {
      const float inf = __builtin_inff();
      const float init = op == kMaxR ? -inf : op == kMinR ? inf : op == kMean ? __builtin_nanf("") : 0.0f;
      for (int64_t i = 0; i < width; ++i) dst[i] = init;
      continue;
    }
    std::memcpy(dst, src, width * sizeof(float));
    for (int64_t r = 1; r < R; ++r) {
      const float* row = src + r * inner;
      switch (op) {
        case kMaxR: map2(kVecVec, dst, row, dst, width, [](vf a, vf b) { return vmax_nan(a, b); }); break;
        case kMinR: map2(kVecVec, dst, row, dst, width, [](vf a, vf b) { return vmin_nan(a, b); }); break;
        default: map2(kVecVec, dst, row, dst, width, [](vf a, vf b) { return a + b; }); break;
      }
    }
    if (op == kMean) {
      float inv = static_cast<float>(R);
      map1(dst, dst, width, [inv](vf a) { return a / inv; });
    }
  }
}

static void softmax_rows(const float* x, float* out, int64_t rows, int64_t cols, int log) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = out + r * cols;
    vf mx = splat(reduce_row(kMaxR, xr, cols));
    if (log) {
      map1(xr, yr, cols, [mx](vf v) { return vexp(v - mx); });
      vf lse = splat(std::log(reduce_row(kSum, yr, cols)));
      map1(xr, yr, cols, [mx, lse](vf v) { return (v - mx) - lse; });
    } else {
      map1(xr, yr, cols, [mx](vf v) { return vexp(v - mx); });
      vf s = splat(reduce_row(kSum, yr, cols));
      map1(yr, yr, cols, [s](vf v) { return v / s; });
    }
  }
}

static void gemv_rows(const float* x, const float* B, int64_t K, int64_t n, int64_t ldb, float* out) {
  std::memset(out, 0, n * sizeof(float));
  for (int64_t k = 0; k < K; ++k) {
    const vf xk = splat(x[k]);
    const float* row = B + k * ldb;
    map2(kVecVec, out, row, out, n, [xk](vf acc, vf b) { return acc + xk * b; });
  }
}

static void gemv_dots(const float* x, const float* B, int64_t K, int64_t n, int64_t ldb, float* out) {
  for (int64_t j = 0; j < n; ++j) {
    const float* row = B + j * ldb;
    vf acc0 = splat(0.0f), acc1 = splat(0.0f);
    int64_t k = 0;
    for (; k + 2 * VW <= K; k += 2 * VW) {
      acc0 += vload(x + k) * vload(row + k);
      acc1 += vload(x + k + VW) * vload(row + k + VW);
    }
    float s = hsum(acc0 + acc1);
    for (; k < K; ++k) s += x[k] * row[k];
    out[j] = s;
  }
}

static void bias_act(float* c, const float* bias, int64_t rows, int64_t cols, int act, float alpha) {
  vf al = splat(alpha);
  for (int64_t r = 0; r < rows; ++r) {
    float* cr = c + r * cols;
    if (bias) map2(kVecVec, cr, bias, cr, cols, [](vf a, vf b) { return a + b; });
    switch (act) {
      case kActRelu: map1(cr, cr, cols, [](vf v) { return vsel(v < splat(0.0f), splat(0.0f), v); }); break;
      case kActRelu6: map1(cr, cr, cols, [](vf v) { return relu6(v); }); break;
      case kActSigmoid: map1(cr, cr, cols, [](vf v) { return vsigmoid(v); }); break;
      case kActLeakyRelu: map1(cr, cr, cols, [al](vf v) { return vsel(v < splat(0.0f), v * al, v); }); break;
      case kActElu: map1(cr, cr, cols, [](vf v) { return vsel(v < splat(0.0f), vexp(v) - 1.0f, v); }); break;
      default: break;
    }
  }
}

}  // namespace SL_ISA_NS
}  // namespace sl
