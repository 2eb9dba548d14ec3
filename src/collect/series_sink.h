// SeriesSink: what a streaming parser of Prometheus answers hands each series to, one at a time,
// so that a consumer (the Mapper, a SampleSet builder) never needs the whole answer in memory.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/result.h"

namespace aitelemetry::collect {

struct SeriesLabel {
  std::string_view name;
  std::string_view value;
};

struct SeriesPoint {
  int64_t timestamp_ms;  // milliseconds since the Unix epoch
  double value;          // NaN and +/-Inf are kept as such
};

// One series of an answer. All views (metric, label names and values) are valid only during the
// SeriesSink::OnSeries call that receives them.
struct SeriesView {
  std::string_view metric;  // __name__; "" for a scalar answer or a nameless expression
  // Every label but __name__, in the order the answer wrote them, unescaped. Names are distinct;
  // labels with an empty value are left out (Prometheus treats them as absent).
  std::span<const SeriesLabel> labels;
  // One point for a vector or scalar answer; a matrix series' points in order. Never empty.
  std::span<const SeriesPoint> points;
};

class SeriesSink {
 public:
  virtual ~SeriesSink() = default;

  // Receives the next series. An error stops the parse, which then returns that error as is.
  [[nodiscard]] virtual Status OnSeries(const SeriesView& series) = 0;

  // Says that the transfer delivering the answer failed after some series reached this sink and
  // that the answer will be delivered again from its first series: the sink undoes whatever must
  // not count twice.
  virtual void Restart() = 0;
};

}  // namespace aitelemetry::collect
