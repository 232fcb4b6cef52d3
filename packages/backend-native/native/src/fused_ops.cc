// Threading of the fused ops: rows split between tasks, column sums split by columns (each
// column summed over all rows in order), scalar sums on the calling thread in row order, so the
// results do not depend on the thread count.
#include <algorithm>
#include <vector>

#include "dispatch.h"
#include "focal.h"

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

float xent(const float* logits, const int32_t* targets, int64_t rows, int64_t V, int32_t ignore, float gamma) {
  const KernelTable& kt = table();
  std::vector<float> nll(rows), valid(rows);
  for_ranges(rows, row_grain(V, 2), [&](int64_t b, int64_t e) {
    kt.xent_rows(logits + b * V, targets + b, nll.data() + b, valid.data() + b, e - b, V, ignore);
  });
  float loss = 0.0f, count = 0.0f;
  for (int64_t r = 0; r < rows; ++r) loss += focal_weight(nll[r], gamma) * nll[r] * valid[r], count += valid[r];
  return loss / std::max(count, 1.0f);
}

void xent_grad(float dy, const float* logits, const int32_t* targets, float* dl, int64_t rows, int64_t V,
               int32_t ignore, float gamma) {
  const KernelTable& kt = table();
  float count = 0.0f;
  for (int64_t r = 0; r < rows; ++r) count += targets[r] != ignore ? 1.0f : 0.0f;
  const float scale = dy / std::max(count, 1.0f);
  for_ranges(rows, row_grain(V, 3), [&](int64_t b, int64_t e) {
    kt.xent_grad_rows(logits + b * V, targets + b, dl + b * V, e - b, V, ignore, scale, gamma);
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

// Causal attention without a bias skips what the mask makes exactly zero: the GEMMs leave out
// the micro-tiles of scores past a row panel's last visible key and the parts of K where the
// probabilities are 0 (GemmTri), about 3/5 of the products at 64 queries over 64 keys. With a
// bias (which may hide every key of a row: the row then attends uniformly to all of them, as in
// the composite) or without a causal mask, every product is dense.
static bool attn_skips(const AttnShape& a) { return a.causal && !a.biased && a.offset >= 0; }

// Keys the queries [0, r1) need.
static int64_t attn_keys(const AttnShape& a, int64_t r1) {
  return attn_skips(a) ? std::clamp<int64_t>(r1 + a.offset, 1, a.KV) : a.KV;
}

// Query rows per chunk of the backward: a chunk's dP/dS stays in a per-thread buffer of at most
// 2^16 floats (256 KB, L2), the whole (batch, head) up to 256 x 256.
static int64_t attn_chunk_rows(const AttnShape& a) {
  return std::clamp<int64_t>((int64_t{1} << 16) / std::max<int64_t>(a.KV, 1), 1, std::max<int64_t>(a.Q, 1));
}

static int64_t attn_visible(const AttnShape& a, int64_t row, int64_t keys) {
  return a.causal ? std::clamp<int64_t>(row + a.offset + 1, 0, keys) : keys;
}

// Columns of row `row` the row kernels compute: all n, or when keys are skipped its visible keys
// rounded up to the GEMM's tile width nr (a whole number of vectors: no padded tails; the scores
// there are computed, being in the tile of the last visible key, and masked to p = 0), the rest
// of the row being 0.
static int64_t attn_cols(const AttnShape& a, int64_t row, int64_t n, int64_t nr) {
  return attn_skips(a) ? std::min(n, (attn_visible(a, row, n) + nr - 1) / nr * nr) : n;
}

// (batch, head) pairs per task: whole pairs, so each output is computed by one task in a fixed
// order whatever the thread count.
static int64_t attn_grain(const AttnShape& a) {
  return std::max<int64_t>(1, (int64_t{1} << 18) / std::max<int64_t>(a.Q * a.KV * std::max(a.D, a.Dv), 1));
}

static GemmArgs tri(GemmArgs g, const AttnShape& a, int mode, int64_t off) {
  if (attn_skips(a)) g.tri = mode, g.tri_off = off;
  return g;
}

void attention(const AttnShape& a, const float* q, const float* k, const float* v, float* out, float* probs) {
  const KernelTable& kt = table();
  const int64_t n = attn_keys(a, a.Q);
  for_ranges(a.B * a.H, attn_grain(a), [&](int64_t lo, int64_t hi) {
    for (int64_t bh = lo; bh < hi; ++bh) {
      const int64_t b = bh / a.H, h = bh % a.H;
      float* p = probs + bh * a.Q * a.KV;
      // p [Q, n] = q . k^T, then the softmax of each row in place
      kt.gemm_block(tri({a.Q, n, a.D, q + bh * a.Q * a.D, a.D, 1, k + bh * a.KV * a.D, 1, a.D, p, a.KV}, a, kTriCols,
                        a.offset));
      for (int64_t i = 0; i < a.Q; ++i) {
        const int64_t cols = attn_cols(a, i, n, kt.gemm_nr);
        float* row = p + i * a.KV;
        const float* bias = a.bias ? a.bias + b * a.sb[0] + h * a.sb[1] + i * a.sb[2] : nullptr;
        kt.attn_probs_row(row, bias, a.bias ? a.sb[3] : 0, cols, a.scale, attn_visible(a, i, n));
        std::fill(row + cols, row + a.KV, 0.0f);  // skipped keys
      }
      // out [Q, Dv] = p [Q, n] . v [n, Dv]
      kt.gemm_block(tri({a.Q, a.Dv, n, p, a.KV, 1, v + bh * a.KV * a.Dv, a.Dv, 1, out + bh * a.Q * a.Dv, a.Dv}, a,
                        kTriLowerK, a.offset));
    }
  });
}

// acc[i] += x[i] for i < n.
static void add_into(float* acc, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += x[i];
}

// Per chunk of query rows: ds = scale * p * (dp - sum(dp * p)) with dp = dout . v^T, then
// dq = ds k, dv += p^T dout, dk += ds^T q.
void attention_grad(const AttnShape& a, const float* dout, const float* q, const float* k, const float* v,
                    const float* probs, float* dq, float* dk, float* dv) {
  const KernelTable& kt = table();
  const int64_t qc = attn_chunk_rows(a);
  const bool one_chunk = qc >= a.Q;
  for_ranges(a.B * a.H, attn_grain(a), [&](int64_t lo, int64_t hi) {
    static thread_local std::vector<float> ds, tmp;
    ds.resize(qc * a.KV);
    tmp.resize(one_chunk ? 0 : a.KV * std::max(a.D, a.Dv));
    for (int64_t bh = lo; bh < hi; ++bh) {
      const float* kh = k + bh * a.KV * a.D;
      const float* vh = v + bh * a.KV * a.Dv;
      float* dkh = dk + bh * a.KV * a.D;
      float* dvh = dv + bh * a.KV * a.Dv;
      std::fill(dkh, dkh + a.KV * a.D, 0.0f);
      std::fill(dvh, dvh + a.KV * a.Dv, 0.0f);
      for (int64_t r0 = 0; r0 < a.Q; r0 += qc) {
        const int64_t m = std::min(qc, a.Q - r0), n = attn_keys(a, r0 + m), off = r0 + a.offset;
        const float* qr = q + (bh * a.Q + r0) * a.D;
        const float* dor = dout + (bh * a.Q + r0) * a.Dv;
        const float* pr = probs + (bh * a.Q + r0) * a.KV;
        // ds [m, n] = dout rows . v^T (dp first)
        kt.gemm_block(tri({m, n, a.Dv, dor, a.Dv, 1, vh, 1, a.Dv, ds.data(), n}, a, kTriCols, off));
        for (int64_t i = 0; i < m; ++i) {
          const int64_t cols = attn_cols(a, r0 + i, n, kt.gemm_nr);
          float* dsr = ds.data() + i * n;
          kt.softmax_grad_rows(dsr, pr + i * a.KV, dsr, 1, cols, a.scale);
          std::fill(dsr + cols, dsr + n, 0.0f);  // skipped keys
        }
        // dq rows [m, D] = ds [m, n] . k [n, D]
        kt.gemm_block(
            tri({m, a.D, n, ds.data(), n, 1, kh, a.D, 1, dq + (bh * a.Q + r0) * a.D, a.D}, a, kTriLowerK, off));
        // dv [n, Dv] += p^T . dout rows; dk [n, D] += ds^T . q rows
        float* dvo = one_chunk ? dvh : tmp.data();
        kt.gemm_block(tri({n, a.Dv, m, pr, 1, a.KV, dor, a.Dv, 1, dvo, a.Dv}, a, kTriUpperK, off));
        if (!one_chunk) add_into(dvh, tmp.data(), n * a.Dv);
        float* dko = one_chunk ? dkh : tmp.data();
        kt.gemm_block(tri({n, a.D, m, ds.data(), 1, n, qr, a.D, 1, dko, a.D}, a, kTriUpperK, off));
        if (!one_chunk) add_into(dkh, tmp.data(), n * a.D);
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
