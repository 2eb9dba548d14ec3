// The live /metrics body of a simulated hub: what dcgm-exporter and kube-state-metrics on each of
// its clusters expose, with the `cluster` label ACM/Thanos add, in text exposition format 0.0.4.
#pragma once

#include <string>
#include <string_view>

#include "core/time.h"
#include "sim/fleet.h"

namespace aitelemetry::sim {

// The Content-Type to serve the exposition with.
inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Appends the exposition of hub `hub` (index into Fleet::hubs) at instant `now` to *out, without
// timestamps. Families are contiguous, each with # HELP and # TYPE, in this order:
//   DCGM_FI_DEV_GPU_UTIL, _SM_CLOCK, _GPU_TEMP, _POWER_USAGE, _TOTAL_ENERGY_CONSUMPTION,
//   _XID_ERRORS, _FB_FREE, _FB_USED, DCGM_FI_PROF_GR_ENGINE_ACTIVE, _PIPE_TENSOR_ACTIVE,
//   _DRAM_ACTIVE (one series per whole GPU or MIG instance; GPU_UTIL only on whole GPUs; MIG
//   instances repeat their parent's power, energy, temperature, clock and XID, as the exporter
//   does), then kube_node_labels, kube_pod_container_resource_requests, kube_pod_status_phase.
// Workload labels appear only on allocated units; XID_ERRORS carries `err_code` when non-zero.
// The output is a pure function of (fleet, hub, now). Requires: 0 <= hub < fleet.hubs.size().
// Cost: about 5 KB of text and 7 us of CPU per GPU (100,000 GPUs: 485 MB, 1.7 M lines,
// ~0.7 s); reusing *out between calls avoids re-faulting its pages.
void AppendExposition(const Fleet& fleet, int hub, Timestamp now, std::string* out);

// Returns the exposition of the hub named `hub` at `now`, or an empty string when the fleet has
// no such hub (use FindHub to tell that apart and answer 404).
std::string RenderExposition(const Fleet& fleet, std::string_view hub, Timestamp now);

}  // namespace aitelemetry::sim
