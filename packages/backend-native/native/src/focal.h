// Focal loss (Lin et al. 2017) of a row whose target has NLL `nll` (p = exp(-nll)):
// loss = (1 - p)^gamma * nll, and d loss / d logits = focal_grad_weight * (softmax - onehot).
// With u = 1 - p: d/dz [u^gamma * nll] = (u^gamma + gamma * p * u^(gamma - 1) * nll) * (softmax - onehot).
// gamma 0 is cross-entropy (both weights exactly 1). u is clamped at 0: an NLL that rounds below 0
// would make it negative, and a negative base has no real power. Scalar code, one call per row;
// `static` so each ISA's translation unit keeps its own copy (no cross-ISA inline merging).
#pragma once
#include <cmath>

namespace sl {

static inline float focal_one_minus_p(float nll) { return nll > 0.0f ? -std::expm1(-nll) : 0.0f; }

static inline float focal_weight(float nll, float gamma) {
  return gamma == 0.0f ? 1.0f : std::pow(focal_one_minus_p(nll), gamma);
}

static inline float focal_grad_weight(float nll, float gamma) {
  if (gamma == 0.0f) return 1.0f;
  const float u = focal_one_minus_p(nll);
  if (u <= 0.0f) return 0.0f;  // p = 1: the loss and its gradient both vanish (for any gamma > 0)
  return std::pow(u, gamma) + gamma * (1.0f - u) * std::pow(u, gamma - 1.0f) * nll;
}

}  // namespace sl
