// downsample_min_max (report.h): the first and last point, then the lowest
// and highest finite point of each bucket of consecutive points, in order.
// Like M4 aggregation without the per-bucket first/last: two points per
// bucket keep every peak and dip, which is what a learning curve must not
// lose (a spike before divergence, the best value of a noisy run).
#include <algorithm>
#include <cmath>

#include "mlruns/report.h"

namespace mlruns {

std::vector<std::size_t> downsample_min_max(std::span<const double> y, std::size_t budget) {
  const std::size_t n = y.size();
  budget = std::max(budget, kMinPointsPerLine);
  std::vector<std::size_t> out;
  if (n <= budget) {
    out.resize(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = i;
    return out;
  }
  const std::size_t buckets = (budget - 2) / 2;
  out.reserve(budget + buckets);  // + one gap marker per bucket at most
  out.push_back(0);
  const std::size_t inner = n - 2;  // points 1 .. n-2 go into buckets
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t begin = 1 + inner * b / buckets;
    const std::size_t end = 1 + inner * (b + 1) / buckets;
    std::size_t lo = n, hi = n, gap = n;
    for (std::size_t i = begin; i < end; ++i) {
      const double v = y[i];
      if (!std::isfinite(v)) {
        if (gap == n) gap = i;  // keep one non-finite point: the line breaks there
        continue;
      }
      if (lo == n || v < y[lo]) lo = i;
      if (hi == n || v > y[hi]) hi = i;
    }
    std::size_t picks[3] = {lo, hi, gap};
    std::sort(picks, picks + 3);
    for (std::size_t i = 0; i < 3; ++i) {
      if (picks[i] == n) break;
      if (i > 0 && picks[i] == picks[i - 1]) continue;
      out.push_back(picks[i]);
    }
  }
  out.push_back(n - 1);
  return out;
}

}  // namespace mlruns
