// The collector's own metrics in the process's metrics::Registry.
#pragma once

#include "metrics/metrics.h"

namespace aitelemetry::collect {

struct SyncMetrics {
  // Registers (or finds) the families in `registry`, which must outlive this object.
  explicit SyncMetrics(metrics::Registry& registry);

  metrics::Family& duration;      // aitelemetry_sync_duration_seconds{hub} (histogram)
  metrics::Family& errors;        // aitelemetry_sync_errors_total{hub}
  metrics::Family& series;        // aitelemetry_series_parsed_total{hub}
  metrics::Family& last_success;  // aitelemetry_last_successful_sync_timestamp_seconds{hub}
};

}  // namespace aitelemetry::collect
