#include "collect/prom_source.h"

#include <thread>

#include <fmt/format.h>

#include "collect/sample_set_sink.h"
#include "core/redact.h"

namespace aitelemetry::collect {
namespace {

// Feeds a 2xx body to the parser as it arrives; the body of any other status is collected whole.
class AnswerStream final : public http::BodySink {
 public:
  explicit AnswerStream(PromStreamParser* parser) : parser_(parser) {}
  bool Open(int status) override { return status >= 200 && status < 300; }
  // A parse error stops the transfer; the parser keeps it for Finish().
  bool Write(std::string_view piece) override { return parser_->Feed(piece).has_value(); }

 private:
  PromStreamParser* parser_;
};

// Drops series: for reading the error answer in a 4xx/5xx body.
class DiscardSeries final : public SeriesSink {
 public:
  Status OnSeries(const SeriesView&) override { return Ok(); }
  void Restart() override {}
};

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string FormatSeconds(Timestamp t) { return fmt::format("{:.3f}", ToUnixSeconds(t)); }

// First bytes of a body, for error messages about bodies that are not answers.
std::string Snippet(std::string_view body) {
  std::string s(body.substr(0, 80));
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return s;
}

ErrorCode CodeForStatus(int status) {
  switch (status) {
    case 400:
    case 422:
      return ErrorCode::kInvalidArgument;
    case 401:
      return ErrorCode::kUnauthenticated;
    case 403:
      return ErrorCode::kPermissionDenied;
    case 404:
      return ErrorCode::kNotFound;
    case 413:
      return ErrorCode::kPayloadTooLarge;
    default:
      return status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInvalidArgument;
  }
}

}  // namespace

PrometheusSource::PrometheusSource(PrometheusSourceOptions options)
    : options_(std::move(options)),
      client_(options_.tls),
      credentials_(options_.bearer_token_file, options_.oauth2, &client_, options_.timeout) {
  options_.url = TrimSlash(options_.url);
}

Result<SampleSet> PrometheusSource::Query(std::string_view promql, Timestamp at) {
  SampleSetSink sink;
  if (Status st = QueryInto(promql, at, &sink); !st) return Fail(st.error());
  return sink.Take(parser_);
}

Status PrometheusSource::QueryInto(std::string_view promql, Timestamp at, SeriesSink* sink) {
  return Post("/api/v1/query", "query=" + http::UrlEncode(promql) + "&time=" + FormatSeconds(at),
              sink);
}

Result<SampleSet> PrometheusSource::QueryRange(std::string_view promql, Timestamp start,
                                               Timestamp end, std::chrono::milliseconds step) {
  if (end < start || step.count() <= 0) {
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("{}: range query needs start <= end and step > 0", RedactUrl(options_.url)));
  }
  SampleSetSink sink;
  Status st = Post("/api/v1/query_range",
                   "query=" + http::UrlEncode(promql) + "&start=" + FormatSeconds(start) +
                       "&end=" + FormatSeconds(end) +
                       fmt::format("&step={:.3f}", static_cast<double>(step.count()) / 1000.0),
                   &sink);
  if (!st) return Fail(st.error());
  return sink.Take(parser_);
}

Status PrometheusSource::Post(std::string_view path, std::string body, SeriesSink* sink) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = options_.url + std::string(path);
  req.body = std::move(body);
  req.timeout = options_.timeout;
  req.max_response_bytes = size_t{1} << 30;
  const std::string where = RedactUrl(options_.url);
  bool refreshed = false;
  std::chrono::milliseconds backoff = options_.retry_backoff;
  Error last;
  bool sink_dirty = false;  // series of a failed attempt reached the sink
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
    bool may_retry = attempt < options_.retries;
    Result<std::string> auth = credentials_.Authorization();
    if (!auth) {
      // A token endpoint that is down is worth a retry; a missing secret file is not.
      last = Error{auth.error().code, where + ": " + auth.error().message};
      bool transient = auth.error().code == ErrorCode::kUnavailable ||
                       auth.error().code == ErrorCode::kDeadlineExceeded;
      if (transient && may_retry) continue;
      return Fail(last);
    }
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Accept", "application/json"}};
    if (!auth->empty()) req.headers.emplace_back("Authorization", *auth);
    if (sink_dirty) {
      sink->Restart();
      sink_dirty = false;
    }
    parser_.Begin(sink);
    AnswerStream stream(&parser_);
    Result<http::ClientResponse> resp = client_.Send(req, &stream);
    sink_dirty = parser_.series() > 0;
    if (!resp) {
      last = Error{resp.error().code, where + ": " + resp.error().message};
      bool transient = resp.error().code == ErrorCode::kUnavailable ||
                       resp.error().code == ErrorCode::kDeadlineExceeded;
      if (transient && may_retry) continue;
      return Fail(last);
    }
    int status = resp->status;
    if (status == 401 && !refreshed && credentials_.configured()) {
      refreshed = true;
      credentials_.Invalidate();
      --attempt;  // a refresh is not a retry
      backoff = options_.retry_backoff;
      continue;
    }
    if (status >= 200 && status < 300) {
      // The body went to the parser as it arrived (a Feed error is kept for Finish), unless it
      // was empty.
      if (!resp->streamed) (void)parser_.Feed(resp->body);
      Status parsed = parser_.Finish();
      if (parsed) return Ok();
      ErrorCode code = parsed.error().code;
      // A 2xx error answer keeps its mapping; a body that is no answer at all is the peer's fault.
      if (code == ErrorCode::kInvalidArgument && parsed.error().message.starts_with("malformed")) {
        code = ErrorCode::kUnavailable;
      }
      return Fail(code, fmt::format("{}: HTTP {}: {}", where, status, parsed.error().message));
    }
    DiscardSeries discard;
    parser_.Begin(&discard);
    (void)parser_.Feed(resp->body);
    Status parsed = parser_.Finish();
    if (parsed || parsed.error().message.starts_with("malformed")) {
      // Not a Prometheus error answer (an HTML page from a proxy, say): use the status.
      last = Error{CodeForStatus(status),
                   fmt::format("{}: HTTP {}: {}", where, status, Snippet(resp->body))};
    } else {
      ErrorCode code = parsed.error().code;
      if (status >= 500) code = ErrorCode::kUnavailable;
      last = Error{code, fmt::format("{}: HTTP {}: {}", where, status, parsed.error().message)};
    }
    if (status >= 500 && may_retry) continue;
    return Fail(last);
  }
}

}  // namespace aitelemetry::collect
