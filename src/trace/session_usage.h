// Usage totals of a finished GPU session, from what the collector stored during its window: hourly
// `usage` rollups of its device and project, and `health-event` rows of kind "xid" of its GPU.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "store/store.h"

namespace aitelemetry::trace {

// Which device and project a session used, and when.
struct SessionWindow {
  std::string device_key;  // key of the GPU or slice; "" when unknown (no usage totals then)
  std::string project;     // the workload's namespace
  std::string gpu_uuid;    // for XID events, which belong to the whole GPU
  Timestamp start;
  Timestamp end;
};

// Totals for one session. Unset means unknown, never zero: nothing was collected for the window.
struct SessionUsage {
  std::optional<double> active_gpu_seconds;
  std::optional<double> energy_joules;
  // No stored series records a peak (rollups keep byte-seconds, devices only the latest reading),
  // so this stays unset until the collector stores one.
  std::optional<int64_t> peak_memory_bytes;
  std::optional<int64_t> xid_count;
};

// Computes the totals inside the caller's transaction. Rollups are per UTC hour, so an hour the
// session covers only partly contributes in proportion to the overlap (use within the hour taken
// as uniform). The totals reflect the rollups stored at the time of the call: an hour the
// collector has not rolled up yet is missing from them. xid_count is set when usage rows show the
// device was observed, or when XID events exist; it counts events with observed_at in
// [start, end]. Errors: the store's.
[[nodiscard]] Result<SessionUsage> ComputeSessionUsage(store::Store::Writer& writer,
                                                       const SessionWindow& window);

// Computes the totals of many sessions at once, as ComputeSessionUsage would one by one (the same
// rows, added in the same order, so the very same doubles), with a few queries in all instead of
// two per session: windows are taken in order of start, up to store::kMaxAnyOfValues at a time,
// and each group reads the usage rows of its devices and projects, and the XID events of its
// GPUs, over the group's whole span of time. Returns one SessionUsage per window, in the order
// given. Errors: the store's.
[[nodiscard]] Result<std::vector<SessionUsage>> ComputeSessionUsages(
    store::Store::Writer& writer, std::span<const SessionWindow> windows);

}  // namespace aitelemetry::trace
