// Threading of the fused ops: rows split between tasks, column sums split by columns (each
// column summed over all rows in order), scalar sums on the calling thread in row order, so the
// results do not depend on the thread count.
#include <algorithm>
#include <vector>

#include "dispatch.h"

namespace sl {

static int64_t row_grain(int64_t cols, int64_t passes) {
  return std::max<int64_t>(1, kElementGrain / std::max<int64_t>(cols * passes, 1));
}

void norm(const float* x, const float* gamma, const float* beta, float* y, int64_t rows, int64_t cols, float eps,
          int center) {
  const KernelTable& kt = table();
  for_ranges(rows, row_grain(cols, 2), [&](int64_t b, int64_t e) {
    kt.norm_rows(x + b * cols, gamma, beta, y + b * cols, nullptr, nullptr, e - b, cols, eps, center);
  });
}

void norm_grad(const float* dy, const float* x, const float* gamma, float* dx, float* dgamma, float* dbeta,
               int64_t rows, int64_t cols, float eps, int center) {
  const KernelTable& kt = table();
  std::vector<float> mean(rows), rstd(rows);
  for_ranges(rows, row_grain(cols, 4), [&](int64_t b, int64_t e) {
    kt.norm_grad_rows(dy + b * cols, x + b * cols, gamma, dx + b * cols, mean.data() + b, rstd.data() + b, e - b, cols,
                      eps, center);
  });
  if (!dgamma && !dbeta) return;
  for_ranges(cols, std::max<int64_t>(16, kElementGrain / std::max<int64_t>(rows, 1)), [&](int64_t b, int64_t e) {
    kt.norm_param_grad(dy + b, x + b, mean.data(), rstd.data(), dgamma ? dgamma + b : nullptr,
                       dbeta ? dbeta + b : nullptr, rows, cols, e - b);
  });
}

float xent(const float* logits, const int32_t* targets, int64_t rows, int64_t V, int32_t ignore) {
  const KernelTable& kt = table();
  std::vector<float> nll(rows), valid(rows);
  for_ranges(rows, row_grain(V, 2), [&](int64_t b, int64_t e) {
    kt.xent_rows(logits + b * V, targets + b, nll.data() + b, valid.data() + b, e - b, V, ignore);
  });
  float loss = 0.0f, count = 0.0f;
  for (int64_t r = 0; r < rows; ++r) loss += nll[r] * valid[r], count += valid[r];
  return loss / std::max(count, 1.0f);
}

void xent_grad(float dy, const float* logits, const int32_t* targets, float* dl, int64_t rows, int64_t V,
               int32_t ignore) {
  const KernelTable& kt = table();
  float count = 0.0f;
  for (int64_t r = 0; r < rows; ++r) count += targets[r] != ignore ? 1.0f : 0.0f;
  const float scale = dy / std::max(count, 1.0f);
  for_ranges(rows, row_grain(V, 3), [&](int64_t b, int64_t e) {
    kt.xent_grad_rows(logits + b * V, targets + b, dl + b * V, e - b, V, ignore, scale);
  });
}

void masked_softmax(const float* x, const float* bias, const int64_t* sb, float* y, int64_t B, int64_t H, int64_t Q,
                    int64_t KV, float scale, bool causal, int64_t offset) {
  const KernelTable& kt = table();
  for_ranges(B * H * Q, row_grain(KV, 3), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t i = r % Q, h = (r / Q) % H, b = r / (Q * H);
      const float* br = bias ? bias + b * sb[0] + h * sb[1] + i * sb[2] : nullptr;
      const int64_t visible = causal ? std::clamp<int64_t>(i + offset + 1, 0, KV) : KV;
      kt.masked_softmax_row(x + r * KV, br, bias ? sb[3] : 0, y + r * KV, KV, scale, visible);
    }
  });
}

void softmax_grad(const float* dy, const float* y, float* dx, int64_t rows, int64_t cols, float scale) {
  const KernelTable& kt = table();
  for_ranges(rows, row_grain(cols, 3), [&](int64_t b, int64_t e) {
    kt.softmax_grad_rows(dy + b * cols, y + b * cols, dx + b * cols, e - b, cols, scale);
  });
}

// Query rows per block: the block's scores (rows x KV floats, and as many for dP in the
// backward) stay in L1/L2; at KV <= 256 a 64-row block is one GEMM of MR-row panels.
static int64_t attn_block_rows(int64_t Q, int64_t KV) {
  return std::clamp<int64_t>((int64_t{1} << 14) / std::max<int64_t>(KV, 1), 1, std::max<int64_t>(Q, 1));
}

// Keys the block of query rows [0, r1) needs: with a causal mask and no bias, keys past the
// block's last visible one have probability exactly 0 and are skipped; otherwise all of them.
static int64_t attn_keys(const AttnShape& a, int64_t r1) {
  if (!a.causal || a.bias != nullptr || a.offset < 0) return a.KV;
  return std::clamp<int64_t>(r1 + a.offset, 1, a.KV);
}

static int64_t attn_visible(const AttnShape& a, int64_t row, int64_t keys) {
  return a.causal ? std::clamp<int64_t>(row + a.offset + 1, 0, keys) : keys;
}

// (batch, head) pairs per task: whole pairs, so each output is computed by one task in a fixed
// order whatever the thread count.
static int64_t attn_grain(const AttnShape& a) {
  return std::max<int64_t>(1, (int64_t{1} << 18) / std::max<int64_t>(a.Q * a.KV * std::max(a.D, a.Dv), 1));
}

static const float* attn_bias_row(const AttnShape& a, int64_t b, int64_t h, int64_t i) {
  return a.bias ? a.bias + b * a.sb[0] + h * a.sb[1] + i * a.sb[2] : nullptr;
}

void attention(const AttnShape& a, const float* q, const float* k, const float* v, float* out, float* lse) {
  const KernelTable& kt = table();
  const int64_t qb = attn_block_rows(a.Q, a.KV);
  for_ranges(a.B * a.H, attn_grain(a), [&](int64_t lo, int64_t hi) {
    static thread_local std::vector<float> s;
    s.resize(qb * a.KV);
    for (int64_t bh = lo; bh < hi; ++bh) {
      const int64_t b = bh / a.H, h = bh % a.H;
      const float* qh = q + bh * a.Q * a.D;
      const float* kh = k + bh * a.KV * a.D;
      const float* vh = v + bh * a.KV * a.Dv;
      for (int64_t r0 = 0; r0 < a.Q; r0 += qb) {
        const int64_t m = std::min(qb, a.Q - r0), n = attn_keys(a, r0 + m);
        // s [m, n] = q rows . k^T
        kt.gemm_block({m, n, a.D, qh + r0 * a.D, a.D, 1, kh, 1, a.D, s.data(), n});
        for (int64_t i = 0; i < m; ++i) {
          lse[bh * a.Q + r0 + i] = kt.attn_probs_row(s.data() + i * n, attn_bias_row(a, b, h, r0 + i),
                                                     a.bias ? a.sb[3] : 0, n, a.scale, attn_visible(a, r0 + i, n));
        }
        // out rows [m, Dv] = p [m, n] . v [n, Dv]
        kt.gemm_block({m, a.Dv, n, s.data(), n, 1, vh, a.Dv, 1, out + (bh * a.Q + r0) * a.Dv, a.Dv});
      }
    }
  });
}

// acc[i] += x[i] for i < n.
static void add_into(float* acc, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += x[i];
}

void attention_grad(const AttnShape& a, const float* dout, const float* q, const float* k, const float* v,
                    const float* out, const float* lse, float* dq, float* dk, float* dv) {
  const KernelTable& kt = table();
  const int64_t qb = attn_block_rows(a.Q, a.KV);
  for_ranges(a.B * a.H, attn_grain(a), [&](int64_t lo, int64_t hi) {
    static thread_local std::vector<float> s, dp, tmp;
    s.resize(qb * a.KV);
    dp.resize(qb * a.KV);
    tmp.resize(a.KV * std::max(a.D, a.Dv));
    for (int64_t bh = lo; bh < hi; ++bh) {
      const int64_t b = bh / a.H, h = bh % a.H;
      const float* qh = q + bh * a.Q * a.D;
      const float* kh = k + bh * a.KV * a.D;
      const float* vh = v + bh * a.KV * a.Dv;
      const float* doh = dout + bh * a.Q * a.Dv;
      const float* oh = out + bh * a.Q * a.Dv;
      float* dkh = dk + bh * a.KV * a.D;
      float* dvh = dv + bh * a.KV * a.Dv;
      std::fill(dkh, dkh + a.KV * a.D, 0.0f);
      std::fill(dvh, dvh + a.KV * a.Dv, 0.0f);
      for (int64_t r0 = 0; r0 < a.Q; r0 += qb) {
        const int64_t m = std::min(qb, a.Q - r0), n = attn_keys(a, r0 + m);
        const float* qr = qh + r0 * a.D;
        const float* dor = doh + r0 * a.Dv;
        // s [m, n] = q rows . k^T; dp [m, n] = dout rows . v^T
        kt.gemm_block({m, n, a.D, qr, a.D, 1, kh, 1, a.D, s.data(), n});
        kt.gemm_block({m, n, a.Dv, dor, a.Dv, 1, vh, 1, a.Dv, dp.data(), n});
        for (int64_t i = 0; i < m; ++i) {
          const int64_t r = r0 + i;
          const float d = kt.row_dot(dor + i * a.Dv, oh + r * a.Dv, a.Dv);
          kt.attn_grad_row(s.data() + i * n, dp.data() + i * n, attn_bias_row(a, b, h, r), a.bias ? a.sb[3] : 0, n,
                           a.scale, attn_visible(a, r, n), lse[bh * a.Q + r], d);
        }
        // s now holds p, dp holds ds (scaled).
        // dv [n, Dv] += p^T . dout rows
        kt.gemm_block({n, a.Dv, m, s.data(), 1, n, dor, a.Dv, 1, tmp.data(), a.Dv});
        add_into(dvh, tmp.data(), n * a.Dv);
        // dq rows [m, D] = ds . k [n, D]
        kt.gemm_block({m, a.D, n, dp.data(), n, 1, kh, a.D, 1, dq + (bh * a.Q + r0) * a.D, a.D});
        // dk [n, D] += ds^T . q rows
        kt.gemm_block({n, a.D, m, dp.data(), 1, n, qr, a.D, 1, tmp.data(), a.D});
        add_into(dkh, tmp.data(), n * a.D);
      }
    }
  });
}

void gelu(const float* x, const float* bias, float* y, int64_t rows, int64_t cols) {
  const KernelTable& kt = table();
  for_ranges(rows, row_grain(cols, 1), [&](int64_t b, int64_t e) {
    kt.gelu_rows(x + b * cols, bias, y + b * cols, e - b, cols);
  });
}

void gelu_grad(const float* dy, const float* x, const float* bias, float* dx, int64_t rows, int64_t cols) {
  const KernelTable& kt = table();
  for_ranges(rows, row_grain(cols, 1), [&](int64_t b, int64_t e) {
    kt.gelu_grad_rows(dy + b * cols, x + b * cols, bias, dx + b * cols, e - b, cols);
  });
}

void adamw(const float* p, const float* m, const float* v, const float* g, float* po, float* mo, float* vo, int64_t n,
           const float* scalars) {
  const KernelTable& kt = table();
  for_ranges(n, kElementGrain, [&](int64_t b, int64_t e) {
    kt.adamw(p + b, m + b, v + b, g + b, po + b, mo + b, vo + b, e - b, scalars);
  });
}

}  // namespace sl
