// Parser of the Prometheus text exposition format (0.0.4) and the OpenMetrics text subset that
// dcgm-exporter and kube-state-metrics write, into a SampleSet.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collect/sample_set.h"
#include "core/result.h"

namespace aitelemetry::collect {

struct ExpositionOptions {
  // Stamped on samples that carry no timestamp of their own: the scrape time, in Unix ms.
  int64_t default_timestamp_ms = 0;
  // OpenMetrics: timestamps are float seconds rather than integer milliseconds.
  bool openmetrics = false;
  // Labels added to every series that lacks a (non-empty) label of that name, e.g.
  // {"cluster", "nerc-ocp-prod"} for an exporter scraped without ACM/Thanos in between.
  std::vector<std::pair<std::string, std::string>> extra_labels;
  ParseLimits limits;
};

// Parses `text` and appends its samples to `*out`, in the order they appear.
//
// Accepts: `# HELP`, `# TYPE` (recorded, see SampleSet::Type), `# UNIT` and other comments
// (ignored), blank lines, `name{l="v",...} value [timestamp]` with the label-value escapes `\\`,
// `\"`, `\n`, an optional trailing comma in a label set, values NaN/+Inf/-Inf and exponents, CRLF
// line ends, and `# EOF` (which ends the input; anything but blank lines after it is an error).
// Labels with an empty value are dropped, as Prometheus does.
//
// Like Prometheus' scraper, one malformed line fails the whole input: a partial scrape would make
// the snapshot logic mark the missing GPUs as gone. Errors are kInvalidArgument naming the 1-based
// line number: bad escapes, unterminated quotes, missing or unparsable values or timestamps,
// invalid metric or label names, a label name repeated within a series, and trailing garbage.
// kPayloadTooLarge when a line, a label value or a series' label count passes options.limits.
// On error `*out` may hold the samples of the lines before the bad one; discard it.
//
// Not supported (rejected as malformed): exemplars, quoted UTF-8 metric names.
[[nodiscard]] Status ParseExposition(std::string_view text, const ExpositionOptions& options,
                                     SampleSet* out);

}  // namespace aitelemetry::collect
