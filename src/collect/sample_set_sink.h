// SampleSetSink: builds a SampleSet from a streamed Prometheus answer, for range queries
// (backfill), tests and callers that want the whole answer at once.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "collect/prom_stream.h"
#include "collect/sample_set.h"
#include "collect/series_sink.h"
#include "core/result.h"

namespace aitelemetry::collect {

// One Sample per point, strings interned. Restart() empties the set.
class SampleSetSink final : public SeriesSink {
 public:
  Status OnSeries(const SeriesView& series) override;
  void Restart() override;

  // Returns the set built, with the result type and warnings of the parser's answer, and resets
  // this sink. Requires: parser.Finish() succeeded.
  SampleSet Take(const PromStreamParser& parser);

 private:
  SampleSet set_;
  std::vector<LabelPair> pairs_;  // scratch, reused per series
};

// Parses a whole body with PromStreamParser, fed in pieces of `piece_bytes` (0: in one piece).
[[nodiscard]] Result<SampleSet> ParsePrometheusStream(std::string_view body,
                                                      const ParseLimits& limits = {},
                                                      size_t piece_bytes = 0);

}  // namespace aitelemetry::collect
