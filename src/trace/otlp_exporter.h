// Sends encoded ExportTraceServiceRequests to an OTLP/HTTP collector and says what the outbox
// should do with them: done, retry later, or dead-letter.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "http/client.h"

namespace aitelemetry::trace {

struct OtlpOptions {
  // Base URL of the collector, e.g. "http://otel-collector:4318"; spans go to {endpoint}/v1/traces.
  std::string endpoint;
  // Extra request headers (an API key, a tenant id). Content-Type is set by the exporter.
  std::vector<std::pair<std::string, std::string>> headers;
  http::TlsOptions tls;
  std::chrono::milliseconds timeout{10000};
};

// Checks that the endpoint is an http:// or https:// URL without a query or fragment. Errors:
// kInvalidArgument naming "otlp.endpoint".
[[nodiscard]] Status ValidateOtlpOptions(const OtlpOptions& options);

enum class ExportDisposition {
  kOk,         // accepted (possibly partially: see rejected_spans); remove from the outbox
  kRetryable,  // the collector is unavailable or throttling; keep and retry later
  kPermanent,  // the collector will never accept this body; dead-letter it
};

struct ExportOutcome {
  ExportDisposition disposition = ExportDisposition::kRetryable;
  int http_status = 0;  // 0 when no response came (network error, timeout)
  // For kOk: spans the collector rejected (partial success); they are not retried, as the OTLP
  // specification says.
  int64_t rejected_spans = 0;
  // What happened, for logs and the dead-letter record: the partial-success message, the error
  // body (cut to 512 bytes), or the transport error.
  std::string message;
  // For kRetryable: the collector's Retry-After (delay-seconds form), when it sent one.
  std::optional<Nanos> retry_after;
};

// Blocking exporter bound to one collector. Thread-compatible: one per worker thread, or guarded.
class OtlpExporter {
 public:
  // Requires: ValidateOtlpOptions(options) succeeded.
  explicit OtlpExporter(OtlpOptions options);

  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // POSTs `json_body` (an ExportTraceServiceRequest from EncodeExportTraceRequest) and classifies
  // the result:
  //   2xx                                  -> kOk (partial success parsed from the body)
  //   429, 502, 503, 504, network error,
  //   timeout                              -> kRetryable (Retry-After seconds honoured)
  //   any other status (400, 401, 404, 413, 500, ...) -> kPermanent
  ExportOutcome Export(const std::string& json_body);

  // The URL spans are posted to.
  const std::string& url() const { return url_; }

 private:
  OtlpOptions options_;
  std::string url_;  // options_.endpoint without trailing '/' + "/v1/traces"
  http::HttpClient client_;
};

// Parses a Retry-After value in its delay-seconds form ("120"). Returns nullopt for an HTTP-date,
// junk, or a value over one day (the caller falls back to Backoff).
std::optional<Nanos> ParseRetryAfter(std::string_view value);

// Backoff bounds: the delay ceiling doubles from kBackoffBase per attempt up to kBackoffCap.
inline constexpr Nanos kBackoffBase = std::chrono::seconds(1);
inline constexpr Nanos kBackoffCap = std::chrono::minutes(5);
inline constexpr Nanos kBackoffFloor = std::chrono::milliseconds(100);

// Returns the delay before retry number `attempt` (0 for the first retry): "full jitter", uniform
// in [kBackoffFloor, min(kBackoffCap, kBackoffBase * 2^attempt)], chosen deterministically from
// `jitter_seed` and `attempt` (give each outbox row its own seed so retries spread out). A
// negative attempt counts as 0.
Nanos Backoff(int attempt, uint64_t jitter_seed);

}  // namespace aitelemetry::trace
