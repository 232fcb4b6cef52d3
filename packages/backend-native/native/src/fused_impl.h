// Row kernels of @sentencelab/tensor's fused ops (LayerNorm/RMSNorm, softmax cross-entropy,
// scaled masked softmax, attention's softmax, GELU, AdamW), compiled once per ISA like
// elementwise_impl.h. Each one
// reads its inputs once or twice and writes its outputs once, where the composite ops they
// replace make 5-15 passes with a temporary tensor each. Threading is the caller's (fused_ops.cc);
// every output element is computed by one call in a fixed order, so results are bit-identical
// run to run.
#pragma once
#include <cmath>
#include <cstring>

#include "focal.h"
#include "kernels.h"
#include "vec_math.h"

namespace sl {
namespace SL_ISA_NS {

// Sum of x[0..n) in vector lanes (fixed order).
static inline float row_sum(const float* x, int64_t n) {
  vf acc = splat(0.0f);
  int64_t i = 0;
  for (; i + VW <= n; i += VW) acc += vload(x + i);
  float s = hsum(acc);
  for (; i < n; ++i) s += x[i];
  return s;
}

// Sum of a[i] * b[i].
static inline float row_dot(const float* a, const float* b, int64_t n) {
  vf acc = splat(0.0f);
  int64_t i = 0;
  for (; i + VW <= n; i += VW) acc += vload(a + i) * vload(b + i);
  float s = hsum(acc);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Sum of (x[i] - m)^2.
static inline float row_sq_dev(const float* x, float m, int64_t n) {
  const vf mv = splat(m);
  vf acc = splat(0.0f);
  int64_t i = 0;
  for (; i + VW <= n; i += VW) {
    vf d = vload(x + i) - mv;
    acc += d * d;
  }
  float s = hsum(acc);
  for (; i < n; ++i) s += (x[i] - m) * (x[i] - m);
  return s;
}

// y = (x - mean) * rstd * gamma + beta per row (center = 0: RMSNorm, mean 0); gamma/beta may
// be null. mean/rstd (may be null) receive each row's statistics.
static void norm_rows(const float* x, const float* gamma, const float* beta, float* y, float* mean_out,
                      float* rstd_out, int64_t rows, int64_t cols, float eps, int center) {
  const float inv = 1.0f / static_cast<float>(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const float mean = center ? row_sum(xr, cols) * inv : 0.0f;
    const float rstd = 1.0f / std::sqrt(row_sq_dev(xr, mean, cols) * inv + eps);
    if (mean_out) mean_out[r] = mean;
    if (rstd_out) rstd_out[r] = rstd;
    const vf mv = splat(mean), rv = splat(rstd);
    int64_t j = 0;
    for (; j + VW <= cols; j += VW) {
      vf v = (vload(xr + j) - mv) * rv;
      if (gamma) v *= vload(gamma + j);
      if (beta) v += vload(beta + j);
      vstore(yr + j, v);
    }
    for (; j < cols; ++j) {
      float v = (xr[j] - mean) * rstd;
      if (gamma) v *= gamma[j];
      if (beta) v += beta[j];
      yr[j] = v;
    }
  }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma and xhat the normalised
// x (center = 0: RMSNorm, no mean(g) term, mean 0). Writes each row's mean and rstd.
static void norm_grad_rows(const float* dy, const float* x, const float* gamma, float* dx, float* mean_out,
                           float* rstd_out, int64_t rows, int64_t cols, float eps, int center) {
  const float inv = 1.0f / static_cast<float>(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float* dyr = dy + r * cols;
    float* dxr = dx + r * cols;
    const float mean = center ? row_sum(xr, cols) * inv : 0.0f;
    const float rstd = 1.0f / std::sqrt(row_sq_dev(xr, mean, cols) * inv + eps);
    mean_out[r] = mean;
    rstd_out[r] = rstd;
    const vf mv = splat(mean), rv = splat(rstd);
    // Sums of g and g * xhat in one pass.
    vf sg = splat(0.0f), sgx = splat(0.0f);
    int64_t j = 0;
    for (; j + VW <= cols; j += VW) {
      vf g = vload(dyr + j);
      if (gamma) g *= vload(gamma + j);
      sg += g;
      sgx += g * ((vload(xr + j) - mv) * rv);
    }
    float s1 = hsum(sg), s2 = hsum(sgx);
    for (; j < cols; ++j) {
      const float g = gamma ? dyr[j] * gamma[j] : dyr[j];
      s1 += g;
      s2 += g * ((xr[j] - mean) * rstd);
    }
    const float m1 = center ? s1 * inv : 0.0f, m2 = s2 * inv;
    const vf m1v = splat(m1), m2v = splat(m2);
    j = 0;
    for (; j + VW <= cols; j += VW) {
      vf g = vload(dyr + j);
      if (gamma) g *= vload(gamma + j);
      const vf xhat = (vload(xr + j) - mv) * rv;
      vstore(dxr + j, rv * (g - m1v - xhat * m2v));
    }
    for (; j < cols; ++j) {
      const float g = gamma ? dyr[j] * gamma[j] : dyr[j];
      const float xhat = (xr[j] - mean) * rstd;
      dxr[j] = rstd * (g - m1 - xhat * m2);
    }
  }
}

// Columns [0, width) of dgamma/dbeta (either may be null) for rows x of stride ld:
// dgamma[j] = sum_r dy[r, j] * xhat[r, j], dbeta[j] = sum_r dy[r, j], rows in order.
static void norm_param_grad(const float* dy, const float* x, const float* mean, const float* rstd, float* dgamma,
                            float* dbeta, int64_t rows, int64_t ld, int64_t width) {
  if (dgamma) std::memset(dgamma, 0, width * sizeof(float));
  if (dbeta) std::memset(dbeta, 0, width * sizeof(float));
  for (int64_t r = 0; r < rows; ++r) {
    const float* dyr = dy + r * ld;
    const float* xr = x + r * ld;
    const vf mv = splat(mean[r]), rv = splat(rstd[r]);
    int64_t j = 0;
    for (; j + VW <= width; j += VW) {
      const vf d = vload(dyr + j);
      if (dgamma) vstore(dgamma + j, vload(dgamma + j) + d * ((vload(xr + j) - mv) * rv));
      if (dbeta) vstore(dbeta + j, vload(dbeta + j) + d);
    }
    for (; j < width; ++j) {
      if (dgamma) dgamma[j] += dyr[j] * ((xr[j] - mean[r]) * rstd[r]);
      if (dbeta) dbeta[j] += dyr[j];
    }
  }
}

// Per row: nll[r] = logsumexp(logits[r]) - logits[r, t] with t = max(target, 0) (0 when t >= V,
// like the composite's all-zero one-hot), valid[r] = target != ignore.
static void xent_rows(const float* logits, const int32_t* targets, float* nll, float* valid, int64_t rows,
                      int64_t V, int32_t ignore) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* lr = logits + r * V;
    const int32_t t = targets[r] < 0 ? 0 : targets[r];
    valid[r] = targets[r] != ignore ? 1.0f : 0.0f;
    const float mx = reduce_row(kMaxR, lr, V);
    const vf mv = splat(mx);
    vf acc = splat(0.0f);
    int64_t j = 0;
    for (; j + VW <= V; j += VW) acc += vexp(vload(lr + j) - mv);
    float s = hsum(acc);
    for (; j < V; ++j) s += std::exp(lr[j] - mx);
    nll[r] = t < V ? (std::log(s) + mx) - lr[t] : 0.0f;
  }
}

// dlogits[r] = (softmax(logits[r]) - onehot(t)) * scale * w for active rows (target != ignore and
// max(target, 0) < V), 0 elsewhere; w = focal_grad_weight(row NLL, gamma) (1 for gamma 0: cross-entropy).
static void xent_grad_rows(const float* logits, const int32_t* targets, float* dl, int64_t rows, int64_t V,
                           int32_t ignore, float scale, float gamma) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* lr = logits + r * V;
    float* dr = dl + r * V;
    const int32_t t = targets[r] < 0 ? 0 : targets[r];
    if (targets[r] == ignore || t >= V) {
      std::memset(dr, 0, V * sizeof(float));
      continue;
    }
    const float mx = reduce_row(kMaxR, lr, V);
    const vf mv = splat(mx);
    map1(lr, dr, V, [mv](vf v) { return vexp(v - mv); });
    const float s = row_sum(dr, V);
    const float ws = gamma == 0.0f ? scale : scale * focal_grad_weight((std::log(s) + mx) - lr[t], gamma);
    const vf k = splat(ws / s);
    map1(dr, dr, V, [k](vf v) { return v * k; });
    dr[t] -= ws;
  }
}

// One row of softmax(x * scale + (mask + bias)): entries j >= visible get mask = -1e9 (the
// composite's causal bias); bias (may be null) steps by bias_step (0: one value for the row).
static void masked_softmax_row(const float* x, const float* bias, int64_t bias_step, float* y, int64_t cols,
                               float scale, int64_t visible) {
  constexpr float kMasked = -1e9f;
  for (int64_t j = 0; j < cols; ++j) {
    const float add = (j >= visible ? kMasked : 0.0f) + (bias ? bias[j * bias_step] : 0.0f);
    y[j] = x[j] * scale + add;
  }
  const vf mv = splat(reduce_row(kMaxR, y, cols));
  map1(y, y, cols, [mv](vf v) { return vexp(v - mv); });
  const vf s = splat(row_sum(y, cols));
  map1(y, y, cols, [s](vf v) { return v / s; });
}

// Attention rows: z = s * scale + (mask + bias), the logits of masked_softmax_row, where
// entries j >= visible get mask = -1e9 and bias (may be null) is one value per entry (bias_step
// 1) or one for the row (bias_step 0). attn_logits gives lanes [0, VW) of a row that starts at
// s, bias and key 0 - j0 (vector bodies and zero-padded tails share it).
static inline vf attn_logits(const float* s, const float* bias, int64_t bias_step, int64_t j0, int64_t visible,
                             vf sc, vf b0) {
  vf add = bias && bias_step == 1 ? vload(bias) : b0;
  if (j0 + VW > visible) {
    float mk[VW];
    for (int t = 0; t < VW; ++t) mk[t] = j0 + t >= visible ? -1e9f : 0.0f;
    add = vload(mk) + add;
  }
  return vload(s) * sc + add;
}

// Runs body(s, bias, j0, lanes) on every vector of a row of cols; the tail goes through
// zero-padded copies, `lanes` < VW of them real.
template <class F>
static inline void attn_row_vectors(float* s, const float* bias, int64_t bias_step, int64_t cols, F body) {
  int64_t j = 0;
  for (; j + VW <= cols; j += VW) body(s + j, bias && bias_step == 1 ? bias + j : bias, j, VW);
  if (j < cols) {
    const int64_t n = cols - j;
    float st[VW] = {}, bt[VW] = {};
    std::memcpy(st, s + j, n * sizeof(float));
    if (bias && bias_step == 1) std::memcpy(bt, bias + j, n * sizeof(float));
    body(st, bias && bias_step == 1 ? bt : bias, j, static_cast<int>(n));
    std::memcpy(s + j, st, n * sizeof(float));
  }
}

// One attention row in place: scores s -> probabilities softmax(z), in three passes (logits and
// their max, exp and its sum, the normalisation) where masked_softmax_row makes five.
static void attn_probs_row(float* s, const float* bias, int64_t bias_step, int64_t cols, float scale,
                            int64_t visible) {
  const vf sc = splat(scale), b0 = splat(bias && bias_step == 0 ? bias[0] : 0.0f);
  const float inf = __builtin_inff();
  vf mx = splat(-inf);
  attn_row_vectors(s, bias, bias_step, cols, [&](float* sv, const float* bv, int64_t j0, int lanes) {
    vf z = attn_logits(sv, bv, bias_step, j0, visible, sc, b0);
    vstore(sv, z);
    if (lanes < VW) {
      float t[VW];
      vstore(t, z);
      for (int l = lanes; l < VW; ++l) t[l] = -inf;
      z = vload(t);
    }
    mx = vmax_nan(mx, z);
  });
  const float m = hmax_nan(mx);
  const vf mv = splat(m);
  vf acc = splat(0.0f);
  attn_row_vectors(s, nullptr, 0, cols, [&](float* sv, const float*, int64_t, int lanes) {
    vf e = vexp(vload(sv) - mv);
    vstore(sv, e);
    if (lanes < VW) {
      float t[VW];
      vstore(t, e);
      for (int l = lanes; l < VW; ++l) t[l] = 0.0f;
      e = vload(t);
    }
    acc += e;
  });
  const float sum = hsum(acc);
  const vf inv = splat(1.0f / sum);
  map1(s, s, cols, [inv](vf v) { return v * inv; });
}

// dx = scale * y * (dy - sum(dy * y)) per row.
static void softmax_grad_rows(const float* dy, const float* y, float* dx, int64_t rows, int64_t cols, float scale) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* dyr = dy + r * cols;
    const float* yr = y + r * cols;
    float* dxr = dx + r * cols;
    const float sd = row_dot(dyr, yr, cols);
    const vf s = splat(sd), sc = splat(scale);
    int64_t j = 0;
    for (; j + VW <= cols; j += VW) vstore(dxr + j, (vload(yr + j) * (vload(dyr + j) - s)) * sc);
    for (; j < cols; ++j) dxr[j] = (yr[j] * (dyr[j] - sd)) * scale;
  }
}

static inline vf gelu_v(vf u) { return (u * 0.5f) * (1.0f + verf(u * 0.70710678118654752f)); }

// d GELU(u) / du = 0.5 (1 + erf(u / sqrt 2)) + u exp(-u^2 / 2) / sqrt(2 pi).
static inline vf gelu_grad_v(vf u) {
  const vf cdf = (1.0f + verf(u * 0.70710678118654752f)) * 0.5f;
  const vf pdf = vexp((u * u) * -0.5f) * 0.3989422804014327f;
  return cdf + u * pdf;
}

// y = GELU(x + bias) over rows of cols (bias may be null: plain GELU, rows * cols elements).
static void gelu_rows(const float* x, const float* bias, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    int64_t j = 0;
    for (; j + VW <= cols; j += VW) {
      vf u = vload(xr + j);
      if (bias) u += vload(bias + j);
      vstore(yr + j, gelu_v(u));
    }
    if (j < cols) {
      float tu[VW] = {};
      for (int64_t k = j; k < cols; ++k) tu[k - j] = bias ? xr[k] + bias[k] : xr[k];
      vstore(tu, gelu_v(vload(tu)));
      std::memcpy(yr + j, tu, (cols - j) * sizeof(float));
    }
  }
}

// dx = dy * GELU'(x + bias) (bias may be null).
static void gelu_grad_rows(const float* dy, const float* x, const float* bias, float* dx, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float* dyr = dy + r * cols;
    float* dxr = dx + r * cols;
    int64_t j = 0;
    for (; j + VW <= cols; j += VW) {
      vf u = vload(xr + j);
      if (bias) u += vload(bias + j);
      vstore(dxr + j, vload(dyr + j) * gelu_grad_v(u));
    }
    if (j < cols) {
      float tu[VW] = {}, td[VW] = {};
      for (int64_t k = j; k < cols; ++k) tu[k - j] = bias ? xr[k] + bias[k] : xr[k], td[k - j] = dyr[k];
      vstore(tu, vload(td) * gelu_grad_v(vload(tu)));
      std::memcpy(dxr + j, tu, (cols - j) * sizeof(float));
    }
  }
}

// AdamW on n elements: m' = b1 m + (1-b1) g; v' = b2 v + (1-b2) g^2;
// p' = p * decay - lr * (m' / bc1) / (sqrt(v' / bc2) + eps). Outputs may alias their inputs.
static void adamw(const float* p, const float* m, const float* v, const float* g, float* po, float* mo, float* vo,
                  int64_t n, const float* s) {
  // s: beta1, 1 - beta1, beta2, 1 - beta2, bc1, bc2, eps, lr, decay (the differences rounded
  // from double, like the composite's scalars).
  const float b1 = s[0], c1 = s[1], b2 = s[2], c2 = s[3], bc1 = s[4], bc2 = s[5], eps = s[6], lr = s[7], decay = s[8];
  int64_t i = 0;
  for (; i + VW <= n; i += VW) {
    const vf gv = vload(g + i);
    const vf mn = vload(m + i) * b1 + gv * c1;
    const vf vn = vload(v + i) * b2 + (gv * gv) * c2;
    const vf upd = (mn / bc1) / (vsqrt(vn / bc2) + eps);
    const vf pd = decay != 1.0f ? vload(p + i) * decay : vload(p + i);
    vstore(po + i, pd - upd * lr);
    vstore(mo + i, mn);
    vstore(vo + i, vn);
  }
  for (; i < n; ++i) {
    const float mn = m[i] * b1 + g[i] * c1;
    const float vn = v[i] * b2 + (g[i] * g[i]) * c2;
    const float upd = (mn / bc1) / (std::sqrt(vn / bc2) + eps);
    const float pd = decay != 1.0f ? p[i] * decay : p[i];
    po[i] = pd - upd * lr;
    mo[i] = mn;
    vo[i] = vn;
  }
}

}  // namespace SL_ISA_NS
}  // namespace sl
