// The metric catalog: which dcgm-exporter / kube-state-metrics series the collector reads, and the
// unit each one is written in, detected from the metric name and the exporter's labels.
//
// dcgm-exporter up to 4.8 writes DCGM_FI_DEV_SM_CLOCK in MHz, TOTAL_ENERGY_CONSUMPTION in mJ,
// GPU_UTIL in % and FB_* in MiB, with the driver label DCGM_FI_DRIVER_VERSION. 4.9 writes Hz, J,
// ratio and bytes and labels the driver DCGM_FI_SYSTEM_DRIVER_VERSION. Names may also carry a
// Prometheus unit suffix (`_hz`, `_hertz`, `_joules`, `_ratio`, `_bytes`, `_mib`, `_percent`,
// `_total`, case-insensitive). The rule, applied per series: an explicit unit suffix wins; without
// one, the 4.9 driver label selects the 4.9 units; otherwise the legacy units. Nothing is guessed
// from the values.
#pragma once

#include <cstdint>
#include <string_view>

namespace aitelemetry::collect {

// What a series measures. Device readings first (their order indexes DeviceReadings::values).
enum class Signal : uint8_t {
  kGpuUtil,         // ratio 0..1 after scaling
  kGrEngineActive,  // ratio
  kTensorActive,    // ratio
  kDramActive,      // ratio
  kFbUsed,          // bytes
  kFbFree,          // bytes
  kFbReserved,      // bytes
  kPower,           // W
  kEnergy,          // J (counter since boot)
  kTemperature,     // degrees C
  kSmClock,         // Hz
  kXid,             // last XID code
  kRemappedRowsUncorrectable,
  kRemappedRowsCorrectable,
  kRowRemapFailure,
  kReadingCount,  // not a signal: the number of device readings above
  kKubeNodeLabels,
  kKubeResourceRequests,
  kUnknown,
};
inline constexpr int kReadingCount = static_cast<int>(Signal::kReadingCount);

// Whether a reading belongs to the physical GPU (MIG instances repeat their parent's value) rather
// than to the unit (whole GPU or MIG instance) the series names.
bool IsDeviceWide(Signal s);

struct MetricInfo {
  Signal signal = Signal::kUnknown;
  double legacy_scale = 1;  // multiply the value by this for exporters up to 4.8
  double v49_scale = 1;     // ... for 4.9 (the DCGM_FI_SYSTEM_DRIVER_VERSION label present)
};

// Classifies a metric name. Returns Signal::kUnknown for series the collector does not read.
// Scales convert to the canonical units listed in Signal. Example: "DCGM_FI_DEV_SM_CLOCK" gives
// {kSmClock, 1e6, 1}; "DCGM_FI_DEV_SM_CLOCK_HZ" gives {kSmClock, 1, 1}.
MetricInfo ClassifyMetric(std::string_view name);

// The name stems the Prometheus source asks for, one query each (a regex that also matches the
// unit-suffixed spellings). Ends with the kube-state-metrics families.
struct FamilyQuery {
  std::string_view stem;      // e.g. "DCGM_FI_DEV_SM_CLOCK"
  std::string_view selector;  // PromQL selector
};
const FamilyQuery* FamilyQueries(int* count);

// Returns the compute share of a MIG profile from its leading "Ng" (N of 7): "3g.40gb" gives
// 3/7. Returns NaN when the profile does not start with a digit run followed by 'g'.
double ComputeShareOfProfile(std::string_view profile);

}  // namespace aitelemetry::collect
