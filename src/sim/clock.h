// The simulator's clock: the wall clock shifted by a fixed offset, so that a run (a test, a demo)
// can stand at any instant of the simulated timeline, e.g. a chosen time of day, whatever the hour
// it really runs at. Workloads are pure functions of the simulated instant (workload.h).
#pragma once

#include <string_view>

#include "core/result.h"
#include "core/time.h"

namespace aitelemetry::sim {

class SimClock {
 public:
  // The wall clock itself (offset 0).
  SimClock() = default;
  explicit SimClock(Nanos offset) : offset_(offset) {}

  // Builds the clock from the simulator's flags, given the real time `real_now` of the start:
  //   `at`: RFC 3339; the simulated clock reads `at` at `real_now` and advances with real time.
  //   `offset`: a duration as ParseDuration reads it, optionally with a leading '-' ("-3h",
  //   "1d2h"), added to the real time.
  // Empty text means the flag was not given; neither given is the wall clock. Returns
  // kInvalidArgument naming the flag (--at, --clock-offset) for unparsable text or both given.
  [[nodiscard]] static Result<SimClock> FromFlags(std::string_view at, std::string_view offset,
                                                  Timestamp real_now);

  // The simulated instant for the real instant `real`.
  Timestamp At(Timestamp real) const { return real + offset_; }
  // The simulated now.
  Timestamp Now() const { return At(aitelemetry::Now()); }
  // Simulated minus real time.
  Nanos offset() const { return offset_; }

 private:
  Nanos offset_{0};
};

}  // namespace aitelemetry::sim
