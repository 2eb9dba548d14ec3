// Fuzz target: the text exposition parser (a scrape body from any exporter), in both the
// Prometheus 0.0.4 and the OpenMetrics modes. Properties: no crash or sanitizer report; errors are
// kInvalidArgument or kPayloadTooLarge; every sample it returns has a metric name and a label set
// of at most the limit, with distinct names and no empty value.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>

#include "collect/exposition.h"
#include "testing/fuzz_check.h"

namespace aitelemetry::collect {
namespace {

void ParseOne(std::string_view text, bool openmetrics) {
  ExpositionOptions options;
  options.default_timestamp_ms = 1'790'000'000'000;
  options.openmetrics = openmetrics;
  options.extra_labels = {{"cluster", "fuzz"}};
  options.limits.max_labels_per_series = 16;
  options.limits.max_label_value_bytes = 256;
  options.limits.max_line_bytes = 4096;
  SampleSet set;
  auto st = ParseExposition(text, options, &set);
  if (!st) {
    fuzz::CheckCode(st.error(), {ErrorCode::kInvalidArgument, ErrorCode::kPayloadTooLarge});
    return;
  }
  for (const Sample& s : set.samples()) {
    fuzz::Check(!set.Metric(s).empty(), "a sample without a metric name");
    auto labels = set.Labels(s);
    // The extra label may come on top of the series' own.
    fuzz::Check(labels.size() <= options.limits.max_labels_per_series + 1, "too many labels");
    std::set<std::string_view> names;
    for (const LabelPair& p : labels) {
      fuzz::Check(!set.String(p.value).empty(), "a label with an empty value");
      fuzz::Check(set.String(p.value).size() <= options.limits.max_label_value_bytes,
                  "a label value over the limit");
      fuzz::Check(names.insert(set.String(p.name)).second, "a label name twice in a series");
    }
  }
}

}  // namespace
}  // namespace aitelemetry::collect

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  aitelemetry::collect::ParseOne(text, false);
  aitelemetry::collect::ParseOne(text, true);
  return 0;
}
