#include "collect/spacing.h"

#include <algorithm>
#include <vector>

namespace aitelemetry::collect {

std::optional<Nanos> SpacingOfTimestamps(std::span<const int64_t> timestamps_ms) {
  std::vector<int64_t> ts(timestamps_ms.begin(), timestamps_ms.end());
  std::sort(ts.begin(), ts.end());
  ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
  if (ts.size() < 2) return std::nullopt;
  std::vector<int64_t> gaps;
  gaps.reserve(ts.size() - 1);
  for (size_t i = 1; i < ts.size(); ++i) gaps.push_back(ts[i] - ts[i - 1]);
  // The lower median: with as many regular gaps as long ones, the regular one.
  auto mid = gaps.begin() + static_cast<std::ptrdiff_t>((gaps.size() - 1) / 2);
  std::nth_element(gaps.begin(), mid, gaps.end());
  return std::chrono::duration_cast<Nanos>(std::chrono::milliseconds(*mid));
}

SampleGrid GridForSpacing(Nanos spacing) {
  constexpr int64_t kHourMs = 3'600'000;
  const int64_t spacing_ms =
      std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(spacing).count());
  int64_t best = 1;
  // The divisors of an hour in milliseconds come in pairs (d, hour / d).
  for (int64_t d = 1; d * d <= kHourMs; ++d) {
    if (kHourMs % d != 0) continue;
    if (d <= spacing_ms) best = std::max(best, d);
    if (kHourMs / d <= spacing_ms) best = std::max(best, kHourMs / d);
  }
  SampleGrid grid;
  grid.step = std::chrono::duration_cast<Nanos>(std::chrono::milliseconds(best));
  grid.window = std::chrono::duration_cast<Nanos>(std::chrono::milliseconds(spacing_ms));
  return grid;
}

}  // namespace aitelemetry::collect
