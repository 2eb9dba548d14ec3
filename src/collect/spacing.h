// Sample spacing: how far apart a hub's samples really are, worked out from raw sample timestamps,
// and the evaluation grid that counts each sample once for that spacing.
//
// The collector does not choose the spacing; the hub does (a cluster Prometheus scraping every
// 15-60 s, ACM Observability pushing every 300 s, Thanos answering old windows downsampled). A
// sample at t stands for [t, t + spacing); time a sample of a series does not cover is unobserved.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "core/time.h"

namespace aitelemetry::collect {

// The spacing used for one window, and where it came from.
struct Spacing {
  Nanos value{0};
  // True when the window had fewer than two samples to go by and the value is the configured
  // `hubs[].spacing`, the last value worked out, or the sync interval.
  bool assumed = false;
};

// Returns the spacing of one series from its raw sample timestamps (milliseconds since the
// epoch, in any order): the median of the gaps between consecutive distinct timestamps, so a
// missed sample or an outage does not widen it. nullopt with fewer than two distinct timestamps.
std::optional<Nanos> SpacingOfTimestamps(std::span<const int64_t> timestamps_ms);

// How a window sampled every `spacing` is read back from range queries: points every `step` on a
// grid that starts at each whole hour, each point showing the series whose newest sample is less
// than `window` old (window = spacing), each point standing for `step`. A sample at t is then seen
// by the grid points in [t, t + spacing): spacing / step of them, so it counts for its spacing.
struct SampleGrid {
  Nanos step{0};
  Nanos window{0};
};

// Returns the grid for `spacing`: step is the largest whole number of milliseconds, at most the
// spacing (and at most an hour), that divides an hour. Requires: spacing >= 1 ms.
SampleGrid GridForSpacing(Nanos spacing);

}  // namespace aitelemetry::collect
