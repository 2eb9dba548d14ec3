// Parser of whole Prometheus HTTP API answers (/api/v1/query, /api/v1/query_range) into a
// SampleSet, with simdjson's DOM parser (runtime-dispatched SIMD kernels), each string interned as
// it is read. The HTTP path streams instead (prom_stream.h), which accepts the same answers with
// the same errors; this parser is the reference its tests compare against.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "collect/sample_set.h"
#include "core/result.h"

namespace aitelemetry::collect {

// Parses a whole answer body.
//
// Success ("status":"success"): a SampleSet whose result_type() is the answer's resultType; one
// Sample per point (a vector gives one per series, a matrix one per [ts, "v"] pair, a scalar one
// sample without metric or labels); "warnings" are kept. Series carrying only native histograms
// yield no samples. Unknown fields are skipped, so newer servers (with "infos", say) parse.
//
// Errors:
//  - an error answer ("status":"error") maps its errorType: bad_data and execution to
//    kInvalidArgument, timeout, canceled and unavailable to kUnavailable, not_found to kNotFound,
//    others to kInternal; the message is "prometheus <errorType>: <error>".
//  - anything that is not a well-formed answer (not JSON, truncated, wrong types, a missing
//    field, a repeated key, a label repeated in a series, a value not a Prometheus float string, a
//    timestamp out of range, a resultType of "string") is kInvalidArgument whose message starts
//    with "malformed Prometheus answer" and says what was wrong.
//  - kPayloadTooLarge when a series passes limits.max_labels_per_series or a label value passes
//    limits.max_label_value_bytes.
// Never crashes or reads out of bounds on any byte string.
//
// This overload copies `body` into a padded buffer first (one memcpy); use the next one to avoid
// the copy for large answers.
[[nodiscard]] Result<SampleSet> ParsePrometheusResponse(std::string_view body,
                                                        const ParseLimits& limits = {});

// As above, but parses `*body` in place after growing its capacity by simdjson's padding (which
// reallocates only if the capacity is short). The contents of *body are not changed.
[[nodiscard]] Result<SampleSet> ParsePrometheusResponseInPlace(std::string* body,
                                                               const ParseLimits& limits = {});

// The same parse with simdjson's buffers kept between calls: for a 600 MB answer, allocating and
// faulting in fresh parser buffers costs as much as the parse. Thread-compatible.
class PromJsonParser {
 public:
  PromJsonParser();
  ~PromJsonParser();
  PromJsonParser(const PromJsonParser&) = delete;
  PromJsonParser& operator=(const PromJsonParser&) = delete;

  // As ParsePrometheusResponseInPlace.
  [[nodiscard]] Result<SampleSet> ParseInPlace(std::string* body, const ParseLimits& limits = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  // holds the simdjson parser
};

}  // namespace aitelemetry::collect
