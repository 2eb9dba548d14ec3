#include "sim/clock.h"

#include <fmt/format.h>

namespace aitelemetry::sim {

Result<SimClock> SimClock::FromFlags(std::string_view at, std::string_view offset,
                                     Timestamp real_now) {
  if (!at.empty() && !offset.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "--at and --clock-offset exclude each other");
  }
  if (!at.empty()) {
    auto t = ParseRfc3339(at);
    if (!t) return Fail(ErrorCode::kInvalidArgument, fmt::format("--at: {}", t.error().message));
    return SimClock(*t - real_now);
  }
  if (!offset.empty()) {
    const bool negative = offset.front() == '-';
    if (negative || offset.front() == '+') offset.remove_prefix(1);
    auto d = ParseDuration(offset);
    if (!d) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("--clock-offset: {}", d.error().message));
    }
    return SimClock(negative ? -*d : *d);
  }
  return SimClock();
}

}  // namespace aitelemetry::sim
