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
