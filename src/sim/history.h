// Past history of a simulated fleet as an OpenMetrics file, for
// `promtool tsdb create-blocks-from openmetrics` to backfill into a Prometheus TSDB.
#pragma once

#include <ostream>

#include "core/result.h"
#include "core/time.h"
#include "sim/fleet.h"

namespace aitelemetry::sim {

// Writes the series of every hub (the same names and labels as AppendExposition) sampled at
// from, from + step, ... (< to), with a timestamp in seconds on every sample, then "# EOF".
// Each family is contiguous with its # TYPE and # HELP lines first; within it each series (label
// set) is contiguous with its samples in time order. Because cluster names are unique across
// hubs, series of different hubs never collide.
//
// Exactness: a sample at t stands for [t, t + step). When step divides the fleet's slot and from
// is a multiple of step, counting allocated samples times step over [from, to) gives exactly
// GpuSecondsByProject(fleet, from, to) (truth.h).
//
// Returns kInvalidArgument when step <= 0, from >= to, or the window has more than 100,000
// samples per series; kUnavailable when writing to `out` fails. Memory stays proportional to one
// GPU's samples, not to the whole file.
[[nodiscard]] Status WriteHistory(const Fleet& fleet, Timestamp from, Timestamp to, Nanos step,
                                  std::ostream& out);

}  // namespace aitelemetry::sim
