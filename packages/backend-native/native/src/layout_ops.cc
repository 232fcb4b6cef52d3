// Memory-bound layout kernels (transpose, gather, segment sum, slice, row copies). They move
// 4-byte elements, so float32 and int32 tensors share them; no ISA-specific code needed.
#include <algorithm>
#include <cstring>
#include <vector>

#include "dispatch.h"

namespace sl {
namespace {

constexpr int64_t kGrain = 1 << 14;

}  // namespace

void transpose(const uint32_t* x, uint32_t* out, int rank, const int64_t* shape, const int64_t* perm) {
  // Collapse: drop size-1 dims, then merge input dims that stay adjacent and in order in perm.
  std::vector<int64_t> keep(rank, -1);
  std::vector<int64_t> sh;
  for (int i = 0; i < rank; ++i)
    if (shape[i] != 1) keep[i] = static_cast<int64_t>(sh.size()), sh.push_back(shape[i]);
  std::vector<int64_t> p;
  for (int i = 0; i < rank; ++i)
    if (keep[perm[i]] >= 0) p.push_back(keep[perm[i]]);
  // Merge runs: out dims i, i+1 with p[i+1] == p[i] + 1.
  std::vector<std::vector<int64_t>> groups;  // in out order, each a run of input dims
  for (int64_t d : p) {
    if (!groups.empty() && groups.back().back() + 1 == d)
      groups.back().push_back(d);
    else
      groups.push_back({d});
  }
  const int r = static_cast<int>(groups.size());
  int64_t total = 1;
  for (int64_t s : sh) total *= s;
  if (r <= 1) {
    std::memcpy(out, x, total * sizeof(uint32_t));
    return;
  }
  // Collapsed input dims ordered by their first original dim.
  std::vector<int> order(r);
  for (int i = 0; i < r; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return groups[a][0] < groups[b][0]; });
  std::vector<int64_t> in_size(r), in_stride(r);  // indexed by out position
  for (int i = 0; i < r; ++i) {
    int64_t s = 1;
    for (int64_t d : groups[i]) s *= sh[d];
    in_size[i] = s;
  }
  {
    int64_t stride = 1;
    for (int k = r - 1; k >= 0; --k) {
      in_stride[order[k]] = stride;
      stride *= in_size[order[k]];
    }
  }
  std::vector<int64_t> out_stride(r);
  {
    int64_t stride = 1;
    for (int i = r - 1; i >= 0; --i) out_stride[i] = stride, stride *= in_size[i];
  }
  const int64_t inner = in_size[r - 1];
  if (in_stride[r - 1] == 1) {
    // The innermost dim is kept: copy rows.
    const int64_t rows = total / inner;
    for_ranges(rows, std::max<int64_t>(1, kGrain / inner), [&](int64_t lo, int64_t hi) {
      for (int64_t row = lo; row < hi; ++row) {
        int64_t rem = row, src = 0;
        for (int i = r - 2; i >= 0; --i) {
          src += (rem % in_size[i]) * in_stride[i];
          rem /= in_size[i];
        }
        std::memcpy(out + row * inner, x + src, inner * sizeof(uint32_t));
      }
    });
    return;
  }
  // Tiled 2-D transpose between out's innermost dim (i) and the out dim q that is the input's
  // innermost; all other dims are an outer loop.
  int q = order[r - 1];
  const int64_t ni = inner, nq = in_size[q];
  const int64_t si = in_stride[r - 1], oq = out_stride[q];
  std::vector<int> rest;
  int64_t outer = 1;
  for (int i = 0; i < r - 1; ++i)
    if (i != q) rest.push_back(i), outer *= in_size[i];
  constexpr int64_t TB = 16;
  const int64_t qtiles = (nq + TB - 1) / TB;
  for_ranges(outer * qtiles, std::max<int64_t>(1, kGrain / (TB * ni)), [&](int64_t lo, int64_t hi) {
    for (int64_t w = lo; w < hi; ++w) {
      const int64_t o = w / qtiles, qt = w % qtiles;
      int64_t rem = o, src = 0, dst = 0;
      for (int k = static_cast<int>(rest.size()) - 1; k >= 0; --k) {
        const int d = rest[k];
        const int64_t idx = rem % in_size[d];
        rem /= in_size[d];
        src += idx * in_stride[d], dst += idx * out_stride[d];
      }
      const int64_t q0 = qt * TB, q1 = std::min(nq, q0 + TB);
      for (int64_t i0 = 0; i0 < ni; i0 += TB) {
        const int64_t i1 = std::min(ni, i0 + TB);
        for (int64_t qq = q0; qq < q1; ++qq) {
          uint32_t* dp = out + dst + qq * oq;
          const uint32_t* sp = x + src + qq;
          for (int64_t i = i0; i < i1; ++i) dp[i] = sp[i * si];
        }
      }
    }
  });
}

int64_t gather(const uint32_t* x, const int32_t* idx, uint32_t* out, int64_t outer, int64_t axis, int64_t inner,
               int64_t nidx) {
  for (int64_t t = 0; t < nidx; ++t)
    if (idx[t] < 0 || idx[t] >= axis) return t;
  for_ranges(outer * nidx, std::max<int64_t>(1, kGrain / std::max<int64_t>(inner, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t w = lo; w < hi; ++w) {
      const int64_t o = w / nidx, t = w % nidx;
      std::memcpy(out + w * inner, x + (o * axis + idx[t]) * inner, inner * sizeof(uint32_t));
    }
  });
  return -1;
}

void segment_sum(const float* x, const int32_t* ids, float* out, int64_t n, int64_t num_segments, int64_t inner) {
  std::memset(out, 0, num_segments * inner * sizeof(float));
  const KernelTable& kt = table();
  // Split the columns, so each output element is summed in row order by one thread.
  for_ranges(inner, std::max<int64_t>(64, kGrain / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t t = 0; t < n; ++t) {
      const int32_t s = ids[t];
      if (s < 0 || s >= num_segments) continue;
      float* dst = out + s * inner + lo;
      kt.binary(kAdd, kVecVec, dst, x + t * inner + lo, dst, hi - lo);
    }
  });
}

void slice(const uint32_t* x, uint32_t* out, int rank, const int64_t* shape, const int64_t* begin,
           const int64_t* size) {
  // Merge trailing dims that are taken whole into the innermost copied run.
  int last = rank - 1;
  int64_t run = 1;
  while (last >= 0 && begin[last] == 0 && size[last] == shape[last]) run *= shape[last--];
  if (last < 0) {
    std::memcpy(out, x, run * sizeof(uint32_t));
    return;
  }
  const int64_t width = size[last] * run;
  std::vector<int64_t> stride(rank);
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; --i) stride[i] = s, s *= shape[i];
  int64_t rows = 1;
  for (int i = 0; i < last; ++i) rows *= size[i];
  const int64_t base = begin[last] * stride[last];
  for_ranges(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(width, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t row = lo; row < hi; ++row) {
      int64_t rem = row, src = base;
      for (int i = last - 1; i >= 0; --i) {
        src += (begin[i] + rem % size[i]) * stride[i];
        rem /= size[i];
      }
      std::memcpy(out + row * width, x + src, width * sizeof(uint32_t));
    }
  });
}

void pad(const uint32_t* x, uint32_t* out, int rank, const int64_t* shape, const int64_t* before,
         const int64_t* out_shape, uint32_t fill) {
  int64_t total = 1, rows = 1;
  for (int i = 0; i < rank; ++i) total *= out_shape[i];
  for (int i = 0; i < rank - 1; ++i) rows *= shape[i];
  for_ranges(total, kGrain, [&](int64_t lo, int64_t hi) { std::fill(out + lo, out + hi, fill); });
  const int64_t width = rank > 0 ? shape[rank - 1] : 1;
  if (width == 0 || rows == 0) return;
  std::vector<int64_t> ostride(rank);
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; --i) ostride[i] = s, s *= out_shape[i];
  const int64_t base = rank > 0 ? before[rank - 1] : 0;
  for_ranges(rows, std::max<int64_t>(1, kGrain / width), [&](int64_t lo, int64_t hi) {
    for (int64_t row = lo; row < hi; ++row) {
      int64_t rem = row, dst = base;
      for (int i = rank - 2; i >= 0; --i) {
        dst += (before[i] + rem % shape[i]) * ostride[i];
        rem /= shape[i];
      }
      std::memcpy(out + dst, x + row * width, width * sizeof(uint32_t));
    }
  });
}

void copy_rows(const uint32_t* src, int64_t src_stride, uint32_t* dst, int64_t dst_stride, int64_t rows,
               int64_t width) {
  for_ranges(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(width, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) std::memcpy(dst + r * dst_stride, src + r * src_stride, width * sizeof(uint32_t));
  });
}

void heads(const float* src, float* dst, int64_t B, int64_t len, int64_t H, int64_t hd, int64_t width, int64_t col0,
           const float* bias, bool split) {
  // Row r of the [B, H, len, hd] side is (b, h, t); its hd floats sit at column col0 + h * hd of
  // row b * len + t on the [B * len, width] side.
  for_ranges(B * H * len, std::max<int64_t>(1, kGrain / std::max<int64_t>(hd, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t t = r % len, h = (r / len) % H, b = r / (len * H);
      const int64_t wide = (b * len + t) * width + col0 + h * hd;
      if (split) {
        const float* s = src + wide;
        float* d = dst + r * hd;
        if (bias) {
          const float* bh = bias + h * hd;
          for (int64_t j = 0; j < hd; ++j) d[j] = s[j] + bh[j];
        } else {
          std::memcpy(d, s, hd * sizeof(float));
        }
      } else {
        std::memcpy(dst + wide, src + r * hd, hd * sizeof(float));
      }
    }
  });
}

}  // namespace sl
