// Branch-free float math on GCC vector types, compiled once per ISA (SL_VBYTES wide).
// Polynomials are the Cephes single-precision ones (about 1-2 ulp); NaN and +-Inf follow IEEE.
#pragma once
#include <cstdint>
#include <cstring>

namespace sl {
namespace SL_ISA_NS {

constexpr int VW = SL_VBYTES / 4;
typedef float vf __attribute__((vector_size(SL_VBYTES)));
typedef int32_t vi __attribute__((vector_size(SL_VBYTES)));

static inline vf vload(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
static inline void vstore(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
static inline vf splat(float x) {
  vf v;  // lane by lane: vf{} + x would turn -0 into +0
  for (int i = 0; i < VW; ++i) v[i] = x;
  return v;
}
// Lane-wise sqrt; with -fno-math-errno the loop becomes one vsqrtps.
static inline vf vsqrt(vf v) {
  float t[VW];
  std::memcpy(t, &v, sizeof v);
  for (int i = 0; i < VW; ++i) t[i] = __builtin_sqrtf(t[i]);
  std::memcpy(&v, t, sizeof v);
  return v;
}
static inline vf vsel(vi mask, vf a, vf b) { return mask ? a : b; }
static inline vf as_vf(vi x) { return (vf)x; }
static inline vi as_vi(vf x) { return (vi)x; }

// max/min that return NaN when either input is NaN (like JS Math.max/min).
static inline vf vmax_nan(vf a, vf b) {
  vf r = vsel(a > b, a, b);
  r = vsel(a != a, a, r);
  return vsel(b != b, b, r);
}
static inline vf vmin_nan(vf a, vf b) {
  vf r = vsel(a < b, a, b);
  r = vsel(a != a, a, r);
  return vsel(b != b, b, r);
}

static inline vf vexp(vf x) {
  vf xc = vsel(x > splat(88.8f), splat(88.8f), x);
  xc = vsel(xc < splat(-104.0f), splat(-104.0f), xc);
  xc = vsel(x != x, splat(0.0f), xc);
  vf fn = xc * 1.44269504088896341f;
  // Round to nearest with the 1.5*2^23 trick (|fn| < 2^22 here).
  fn = (fn + 12582912.0f) - 12582912.0f;
  vf r = xc - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  vf p = splat(1.9875691500E-4f);
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  vi n = __builtin_convertvector(fn, vi);
  vi n1 = n >> 1;
  vi n2 = n - n1;
  // Two scale steps so that 2^128 (overflow to inf) and 2^-150 (underflow) come out right.
  vf y = p * as_vf((n1 + 127) << 23) * as_vf((n2 + 127) << 23);
  return vsel(x != x, x, y);
}

static inline vf vlog(vf x) {
  // Denormals: scale into the normal range first.
  vi tiny = x < splat(1.17549435e-38f);
  vf xs = vsel(tiny, x * 8388608.0f, x);
  vi xi = as_vi(xs);
  vi e = ((xi >> 23) & 0xff) - 126;
  e = e - (tiny & 23);
  vf m = as_vf((xi & 0x007fffff) | 0x3f000000);  // m in [0.5, 1)
  vi small = m < splat(0.707106781186547524f);
  e = e + small;  // small is -1 where true
  m = m - 1.0f + vsel(small, m, splat(0.0f));
  vf z = m * m;
  vf y = splat(7.0376836292E-2f);
  y = y * m - 1.1514610310E-1f;
  y = y * m + 1.1676998740E-1f;
  y = y * m - 1.2420140846E-1f;
  y = y * m + 1.4249322787E-1f;
  y = y * m - 1.6668057665E-1f;
  y = y * m + 2.0000714765E-1f;
  y = y * m - 2.4999993993E-1f;
  y = y * m + 3.3333331174E-1f;
  y = y * m * z;
  vf fe = __builtin_convertvector(e, vf);
  y = y + fe * -2.12194440e-4f;
  y = y - 0.5f * z;
  vf r = m + y + fe * 0.693359375f;
  const float inf = __builtin_inff();
  const float nan = __builtin_nanf("");
  r = vsel(x == splat(inf), splat(inf), r);
  r = vsel(x == splat(0.0f), splat(-inf), r);
  r = vsel(x < splat(0.0f), splat(nan), r);
  return vsel(x != x, x, r);
}

static inline vf vtanh(vf x) {
  vi neg = x < splat(0.0f);
  vf ax = vsel(neg, -x, x);
  vf z = x * x;
  vf small = splat(-5.70498872745E-3f);
  small = small * z + 2.06390887954E-2f;
  small = small * z - 5.37397155531E-2f;
  small = small * z + 1.33314422036E-1f;
  small = small * z - 3.33332819422E-1f;
  small = small * z * x + x;
  vf e = vexp(ax + ax);
  vf big = 1.0f - 2.0f / (e + 1.0f);
  big = vsel(neg, -big, big);
  return vsel(ax < splat(0.625f), small, big);
}

static inline vf vsigmoid(vf x) { return 1.0f / (1.0f + vexp(-x)); }

// The same Abramowitz-Stegun 7.1.26 approximation the tfjs cpu backend uses for Erf.
static inline vf verf(vf x) {
  vf sign = vsel(x > splat(0.0f), splat(1.0f), vsel(x < splat(0.0f), splat(-1.0f), splat(0.0f)));
  sign = vsel(x != x, x, sign);
  vf v = vsel(x < splat(0.0f), -x, x);
  vf t = 1.0f / (1.0f + 0.3275911f * v);
  vf p = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
  return sign * (1.0f - p * vexp(-v * v));
}

}  // namespace SL_ISA_NS
}  // namespace sl
