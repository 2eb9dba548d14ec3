#include "collect/sample_set_sink.h"

#include <algorithm>

namespace aitelemetry::collect {

Status SampleSetSink::OnSeries(const SeriesView& series) {
  StringId metric = set_.Intern(series.metric);
  pairs_.clear();
  for (const SeriesLabel& l : series.labels) {
    pairs_.push_back(LabelPair{set_.Intern(l.name), set_.Intern(l.value)});
  }
  LabelSetId labels = set_.InternLabelSet(pairs_);
  for (const SeriesPoint& p : series.points) {
    set_.Add(Sample{metric, labels, p.value, p.timestamp_ms});
  }
  return Ok();
}

void SampleSetSink::Restart() { set_ = SampleSet(); }

SampleSet SampleSetSink::Take(const PromStreamParser& parser) {
  SampleSet out = std::move(set_);
  set_ = SampleSet();
  out.set_result_type(parser.result_type());
  for (const std::string& w : parser.warnings()) out.AddWarning(w);
  return out;
}

Result<SampleSet> ParsePrometheusStream(std::string_view body, const ParseLimits& limits,
                                        size_t piece_bytes) {
  PromStreamParser parser(limits);
  SampleSetSink sink;
  parser.Begin(&sink);
  if (piece_bytes == 0) piece_bytes = std::max<size_t>(body.size(), 1);
  for (size_t at = 0; at < body.size(); at += piece_bytes) {
    if (Status st = parser.Feed(body.substr(at, piece_bytes)); !st) return Fail(st.error());
  }
  if (Status st = parser.Finish(); !st) return Fail(st.error());
  return sink.Take(parser);
}

}  // namespace aitelemetry::collect
