// PrometheusSource: PromQL queries against one hub's Prometheus-compatible HTTP API (Prometheus,
// Thanos Querier, Observatorium, prom-keycloak-proxy), with bearer/OAuth2/mTLS and retries.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "collect/credentials.h"
#include "collect/prom_stream.h"
#include "collect/sample_set.h"
#include "collect/series_sink.h"
#include "core/result.h"
#include "core/time.h"
#include "http/client.h"

namespace aitelemetry::collect {

struct PrometheusSourceOptions {
  // Base URL; "/api/v1/query" is appended. For Observatorium it already ends in
  // "/api/metrics/v1/{tenant}". A trailing slash is ignored.
  std::string url;
  std::string bearer_token_file;  // re-read when it changes
  using OAuth2 = OAuth2Options;   // token_url, client_id, client_secret_file, scopes
  OAuth2 oauth2;                  // used instead of the token file when token_url is set
  http::TlsOptions tls;
  std::chrono::milliseconds timeout{30000};      // per attempt, parsing the body as it arrives
  int retries = 2;                               // extra attempts after the first
  std::chrono::milliseconds retry_backoff{500};  // doubled per retry
  ParseLimits limits;
};

// Thread-compatible: one caller at a time (it owns one HTTP connection).
class PrometheusSource {
 public:
  explicit PrometheusSource(PrometheusSourceOptions options);

  // Runs an instant query: POST {url}/api/v1/query with the form fields query and time (Unix
  // seconds). Returns the answer as a SampleSet (vector, or scalar).
  //
  // A 2xx body is parsed as it arrives (PromStreamParser), never held whole; a 4xx/5xx body is
  // read whole (up to 1 GiB) for the error answer in it. Retries with exponential backoff on
  // network errors, timeouts and HTTP 5xx, never on 4xx, including a transfer that breaks off
  // midway through the body. On HTTP 401 it refreshes the credentials once and tries again.
  // Errors name the hub URL and, when there was one, the HTTP status:
  //  - the Prometheus error answer's mapping (see ParsePrometheusResponse), e.g. kInvalidArgument
  //    for bad PromQL;
  //  - kUnauthenticated (401 after a refresh), kPermissionDenied (403), kNotFound (404);
  //  - kUnavailable for 5xx after the retries, and for a 2xx body that is not a well-formed answer
  //    (an HTML page from a proxy, a truncated body): the peer, not the caller, is at fault;
  //  - kDeadlineExceeded when the last attempt timed out; kPayloadTooLarge past 1 GiB;
  //  - credential errors from Credentials::Authorization().
  [[nodiscard]] Result<SampleSet> Query(std::string_view promql, Timestamp at);

  // As Query(), but hands each series to `sink` as soon as it has arrived instead of building a
  // SampleSet: memory holds one piece of the body and the series it ends in. When a transfer
  // breaks off after some series reached the sink and is retried, sink->Restart() is called
  // before the answer is delivered again from its first series. On failure the sink may hold part
  // of the answer: the caller discards what it built.
  [[nodiscard]] Status QueryInto(std::string_view promql, Timestamp at, SeriesSink* sink);

  // Runs a range query: POST {url}/api/v1/query_range with query, start, end, step (seconds).
  // Returns a matrix SampleSet, one Sample per point. Errors as Query(); kInvalidArgument without
  // a request when end < start or step <= 0.
  [[nodiscard]] Result<SampleSet> QueryRange(std::string_view promql, Timestamp start,
                                             Timestamp end, std::chrono::milliseconds step);

  const std::string& url() const { return options_.url; }

 private:
  Status Post(std::string_view path, std::string body, SeriesSink* sink);

  PrometheusSourceOptions options_;
  http::HttpClient client_;
  Credentials credentials_;
  PromStreamParser parser_;  // reused, so its buffers stay grown between queries
};

}  // namespace aitelemetry::collect
