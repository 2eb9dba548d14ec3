#include "collect/exporter_source.h"

#include <thread>

#include <fmt/format.h>

#include "collect/exposition.h"
#include "core/redact.h"

namespace aitelemetry::collect {

ExporterSource::ExporterSource(ExporterSourceOptions options)
    : options_(std::move(options)),
      client_(options_.tls),
      credentials_(options_.bearer_token_file, options_.oauth2, &client_, options_.timeout) {}

Result<SampleSet> ExporterSource::Scrape(Timestamp now) {
  SampleSet out;
  for (const ExporterTarget& target : options_.targets) {
    if (Status st = ScrapeOne(target, now, &out); !st) return Fail(st.error());
  }
  return out;
}

Status ExporterSource::ScrapeTarget(size_t index, Timestamp now, SampleSet* out) {
  return ScrapeOne(options_.targets[index], now, out);
}

Status ExporterSource::ScrapeOne(const ExporterTarget& target, Timestamp now, SampleSet* out) {
  http::ClientRequest req;
  req.method = "GET";
  req.url = target.url;
  req.timeout = options_.timeout;
  req.max_response_bytes = options_.max_body_bytes;
  bool refreshed = false;
  std::chrono::milliseconds backoff = options_.retry_backoff;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
    bool may_retry = attempt < options_.retries;
    Result<std::string> auth = credentials_.Authorization();
    if (!auth) return Fail(auth.error().code, RedactUrl(target.url) + ": " + auth.error().message);
    req.headers = {{"Accept",
                    "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;"
                    "version=1.0.0;q=0.5"}};
    if (!auth->empty()) req.headers.emplace_back("Authorization", *auth);
    Result<http::ClientResponse> resp = client_.Send(req);
    if (!resp) {
      bool transient = resp.error().code == ErrorCode::kUnavailable ||
                       resp.error().code == ErrorCode::kDeadlineExceeded;
      if (transient && may_retry) continue;
      return Fail(resp.error().code, RedactUrl(target.url) + ": " + resp.error().message);
    }
    int status = resp->status;
    if (status == 401 && !refreshed && credentials_.configured()) {
      refreshed = true;
      credentials_.Invalidate();
      --attempt;
      continue;
    }
    if (status >= 500 && may_retry) continue;
    if (status != 200) {
      ErrorCode code = status >= 500   ? ErrorCode::kUnavailable
                       : status == 401 ? ErrorCode::kUnauthenticated
                       : status == 403 ? ErrorCode::kPermissionDenied
                       : status == 404 ? ErrorCode::kNotFound
                                       : ErrorCode::kUnavailable;
      return Fail(code, fmt::format("{}: HTTP {}", RedactUrl(target.url), status));
    }
    ExpositionOptions opts;
    opts.default_timestamp_ms = ToUnixMillis(now);
    opts.openmetrics = resp->Header("content-type").starts_with("application/openmetrics-text");
    opts.limits = options_.limits;
    if (!target.cluster.empty()) opts.extra_labels.emplace_back("cluster", target.cluster);
    if (Status st = ParseExposition(resp->body, opts, out); !st) {
      return Fail(st.error().code, RedactUrl(target.url) + ": " + st.error().message);
    }
    return Ok();
  }
}

}  // namespace aitelemetry::collect
