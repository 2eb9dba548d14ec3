// ExporterSource: scrapes dcgm-exporter / kube-state-metrics /metrics endpoints directly (bare
// metal, or a cluster without a Prometheus we may query) into one SampleSet.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "collect/credentials.h"
#include "collect/sample_set.h"
#include "core/result.h"
#include "core/time.h"
#include "http/client.h"

namespace aitelemetry::collect {

struct ExporterTarget {
  std::string url;      // full URL of the exposition, e.g. http://node1:9400/metrics
  std::string cluster;  // when set, added as label `cluster` to series that lack one
};

struct ExporterSourceOptions {
  std::vector<ExporterTarget> targets;
  std::string bearer_token_file;
  OAuth2Options oauth2;
  http::TlsOptions tls;
  std::chrono::milliseconds timeout{10000};  // per target and attempt
  int retries = 1;
  std::chrono::milliseconds retry_backoff{250};
  size_t max_body_bytes = 256u << 20;
  ParseLimits limits;
};

// Thread-compatible: one caller at a time.
class ExporterSource {
 public:
  explicit ExporterSource(ExporterSourceOptions options);

  // GETs every target in order (Accept: text/plain;version=0.0.4, OpenMetrics accepted when the
  // peer insists) and parses each exposition into one SampleSet; samples without a timestamp get
  // `now`. Retries network errors and 5xx like PrometheusSource; refreshes credentials once on 401.
  //
  // Any failing target fails the whole scrape (a partial snapshot would make the collector mark
  // the missing GPUs as gone); ExporterSnapshotSource scrapes with ScrapeTarget instead and marks
  // a dead target's nodes unreachable. Errors name the target URL: ParseExposition's errors for a
  // malformed exposition, kUnavailable for 5xx, kUnauthenticated/kPermissionDenied/kNotFound for
  // 401/403/404, the transport's kDeadlineExceeded/kUnavailable/kPayloadTooLarge.
  [[nodiscard]] Result<SampleSet> Scrape(Timestamp now);

  // Scrapes target `index` alone into `out` (errors as Scrape, for that target only), so that a
  // caller can go on past a dead target. Requires: index < targets().size().
  [[nodiscard]] Status ScrapeTarget(size_t index, Timestamp now, SampleSet* out);
  const std::vector<ExporterTarget>& targets() const { return options_.targets; }

 private:
  Status ScrapeOne(const ExporterTarget& target, Timestamp now, SampleSet* out);

  ExporterSourceOptions options_;
  http::HttpClient client_;
  Credentials credentials_;
};

}  // namespace aitelemetry::collect
