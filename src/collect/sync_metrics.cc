#include "collect/sync_metrics.h"

namespace aitelemetry::collect {

SyncMetrics::SyncMetrics(metrics::Registry& registry)
    : duration(registry.Histogram("aitelemetry_sync_duration_seconds",
                                  "Time one hub sync took, from the first query to the commit.",
                                  {"hub"}, {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120})),
      errors(registry.Counter("aitelemetry_sync_errors_total", "Hub syncs that failed.", {"hub"})),
      series(registry.Counter("aitelemetry_series_parsed_total",
                              "Samples read from a hub's sources by successful and failed syncs.",
                              {"hub"})),
      last_success(registry.Gauge("aitelemetry_last_successful_sync_timestamp_seconds",
                                  "Evaluation time of the hub's last successful sync.", {"hub"})) {}

}  // namespace aitelemetry::collect
