// Streaming parser of Prometheus HTTP API answers (/api/v1/query, /api/v1/query_range): fed the
// body in pieces as the HTTP client receives them, it hands each series to a SeriesSink as soon as
// the series is complete, and holds no more of the body than the one series (or other value) that
// a piece ended inside. Used by the live collection path, where a 100,000-GPU hub answers with
// up to 60 MB per query; prom_json.h parses whole bodies with simdjson.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collect/sample_set.h"
#include "collect/series_sink.h"
#include "core/result.h"

namespace aitelemetry::collect {

// Accepts the answers ParsePrometheusResponse accepts, with the same errors and codes: an error
// answer ("status":"error") maps its errorType the same way; anything that is not a well-formed
// answer is kInvalidArgument "malformed Prometheus answer: ..." (here with the byte offset);
// kPayloadTooLarge past limits.max_labels_per_series or limits.max_label_value_bytes.
// Keys may come in any order; unknown keys and their values ("infos", "stats", "histogram") are
// checked and skipped; values skipped that way are buffered whole while they straddle pieces.
// Nesting deeper than 1024 (simdjson's limit) is malformed.
//
// Streaming changes two things: series reach the sink before the end of the body is seen, so a
// body that turns out to be malformed or an error answer after some series still delivered them
// (the caller discards what the sink built when Finish() fails); and a malformed series found
// before "status" is read is reported as malformed even if "status" later says "error"
// (Prometheus writes "status" first).
//
// Cost: each byte is read once, except those of a value that straddles two pieces, which is
// re-read when it completes (amortised linear for any piece sizes, down to one byte). Strings
// are scanned sixteen bytes at a time; no heap allocation per series once the buffers have grown.
// Thread-compatible.
class PromStreamParser {
 public:
  explicit PromStreamParser(ParseLimits limits = {});
  ~PromStreamParser();
  PromStreamParser(const PromStreamParser&) = delete;
  PromStreamParser& operator=(const PromStreamParser&) = delete;

  // Starts a new answer whose series go to `sink`, forgetting any earlier answer but keeping the
  // buffers. Requires: `sink` outlives the calls up to Finish().
  void Begin(SeriesSink* sink);

  // Parses the next piece of the body (any size, including empty). Returns the first error; once
  // one is returned, every later call returns it again.
  [[nodiscard]] Status Feed(std::string_view piece);

  // Ends the answer: errors when the body was empty, ended inside the answer, lacks a required
  // field, or is an error answer. Requires: Begin() was called.
  [[nodiscard]] Status Finish();

  // After a successful Finish(): the answer's resultType and its "warnings", in order.
  ResultType result_type() const;
  const std::vector<std::string>& warnings() const;
  // The OnSeries calls made since Begin().
  size_t series() const;
  // The bytes of body the parser keeps between pieces (its carry buffer's capacity).
  size_t carry_capacity() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aitelemetry::collect
