// Fuzz target: the streaming parser of Prometheus HTTP API answers (the body of /api/v1/query and
// /api/v1/query_range from any Prometheus, Thanos or Observatorium), fed whole, one byte at a time
// and in pieces of a size taken from the input, against the simdjson parser it must agree with.
// Properties: no crash or sanitizer report; errors have the documented codes; all three feeds and
// the reference accept the same bodies, and when they do they yield the same samples.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "collect/prom_json.h"
#include "collect/prom_stream.h"
#include "collect/sample_set_sink.h"
#include "testing/fuzz_check.h"

namespace aitelemetry::collect {
namespace {

// A canonical rendering of a SampleSet: the result type, the warnings, then every sample as
// metric, labels in order, the value's bits and the timestamp.
std::string Render(const SampleSet& set) {
  std::string out = std::to_string(static_cast<int>(set.result_type()));
  for (const auto& w : set.warnings()) out += "\nwarning " + w;
  for (const Sample& s : set.samples()) {
    out += '\n';
    out += set.Metric(s);
    for (const LabelPair& p : set.Labels(s)) {
      out += ' ';
      out += set.String(p.name);
      out += '=';
      out += set.String(p.value);
    }
    uint64_t bits;
    double v = std::isnan(s.value) ? std::nan("") : s.value;  // NaN payloads may differ
    std::memcpy(&bits, &v, sizeof bits);
    out += ' ' + std::to_string(bits) + ' ' + std::to_string(s.timestamp_ms);
  }
  return out;
}

void Run(std::string_view body) {
  ParseLimits limits;
  limits.max_labels_per_series = 16;
  limits.max_label_value_bytes = 256;
  auto reference = ParsePrometheusResponse(body, limits);
  if (!reference) {
    fuzz::CheckCode(reference.error(),
                    {ErrorCode::kInvalidArgument, ErrorCode::kPayloadTooLarge,
                     ErrorCode::kUnavailable, ErrorCode::kNotFound, ErrorCode::kInternal});
  }
  const std::string want = reference ? Render(*reference) : "";
  const size_t pieces[] = {0, 1, 1 + body.size() % 61};
  for (size_t piece : pieces) {
    auto streamed = ParsePrometheusStream(body, limits, piece);
    if (!streamed) {
      fuzz::CheckCode(streamed.error(),
                      {ErrorCode::kInvalidArgument, ErrorCode::kPayloadTooLarge,
                       ErrorCode::kUnavailable, ErrorCode::kNotFound, ErrorCode::kInternal});
    }
    fuzz::Check(streamed.has_value() == reference.has_value(),
                reference ? "the stream refused what the reference accepts"
                          : "the stream accepted what the reference refuses");
    if (streamed) fuzz::Check(Render(*streamed) == want, "the stream's samples differ");
  }
}

}  // namespace
}  // namespace aitelemetry::collect

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aitelemetry::collect::Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
