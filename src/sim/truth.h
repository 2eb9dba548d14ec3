// Ground truth of a simulation: the entities served and the exact allocated GPU-equivalent
// seconds per project over a window, for tests and benchmarks to compare a collector against.
#pragma once

#include <string>
#include <vector>

#include "core/time.h"
#include "sim/fleet.h"

namespace aitelemetry::sim {

// Returns allocated GPU-equivalent seconds per project (indexed like Fleet::projects) over
// [from, to): each holding contributes its overlap with the window times its compute share (a
// whole GPU 1, a 3g slice 3/7). Exact up to the final conversion to double (sums are kept in
// integer nanosecond-sevenths). An empty or inverted window gives zeros.
std::vector<double> GpuSecondsByProject(const Fleet& fleet, Timestamp from, Timestamp to);

// Returns the ground-truth JSON document:
//   {"seed", "slot_seconds", "hubs":[names], "clusters":[{"hub","name"}],
//    "nodes":[{"hub","cluster","name","model"}],
//    "gpus":[{"hub","cluster","node","uuid","model","mig"}],
//    "slices":[{"gpu_uuid","gpu_i_id","profile"}], "projects":[{"hub","cluster","namespace"}],
//    "gpu_seconds_by_project":{"HUB-h-CLUSTER-c-PROJECT-ns": seconds, ...}}
// covering every hub; every project has a key, zero when it held nothing. With history_mode it
// also has "from" and "to" (RFC 3339). In live mode the caller passes from = simulator start and
// to = now.
std::string RenderTruthJson(const Fleet& fleet, Timestamp from, Timestamp to, bool history_mode);

}  // namespace aitelemetry::sim
