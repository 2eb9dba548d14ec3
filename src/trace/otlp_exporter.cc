#include "trace/otlp_exporter.h"

#include <algorithm>

#include <fmt/format.h>

#include "trace/otlp_json.h"

namespace aitelemetry::trace {
namespace {

constexpr size_t kMaxMessageBytes = 512;
constexpr size_t kMaxResponseBytes = 1u << 20;

std::string TracesUrl(std::string endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint + "/v1/traces";
}

std::string Cut(std::string_view s) {
  if (s.size() <= kMaxMessageBytes) return std::string(s);
  return std::string(s.substr(0, kMaxMessageBytes)) + "...";
}

bool IsRetryableStatus(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

// splitmix64: a small, well-mixed deterministic generator step.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

Status ValidateOtlpOptions(const OtlpOptions& options) {
  const std::string& e = options.endpoint;
  bool scheme_ok = e.starts_with("http://") || e.starts_with("https://");
  size_t host_at = e.find("://") + 3;
  if (!scheme_ok || host_at >= e.size() || e[host_at] == '/') {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("otlp.endpoint: expected http(s)://host[:port][/path], got \"{}\"", e));
  }
  if (e.find_first_of("?#") != std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument, "otlp.endpoint: must not have a query or fragment");
  }
  if (options.timeout.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "otlp.timeout: must be positive");
  }
  return Ok();
}

OtlpExporter::OtlpExporter(OtlpOptions options)
    : options_(std::move(options)), url_(TracesUrl(options_.endpoint)), client_(options_.tls) {}

ExportOutcome OtlpExporter::Export(const std::string& json_body) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = url_;
  request.headers = options_.headers;
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = json_body;
  request.timeout = options_.timeout;
  request.max_response_bytes = kMaxResponseBytes;

  ExportOutcome outcome;
  auto response = client_.Send(request);
  if (!response) {
    // No answer (or one too large to read): the body may or may not have arrived. Resending is
    // safe because span ids are deterministic; the collector deduplicates or the backend does.
    outcome.disposition = response.error().code == ErrorCode::kInvalidArgument
                              ? ExportDisposition::kPermanent
                              : ExportDisposition::kRetryable;
    outcome.message = response.error().ToString();
    return outcome;
  }
  outcome.http_status = response->status;
  if (response->status >= 200 && response->status < 300) {
    outcome.disposition = ExportDisposition::kOk;
    auto partial = ParseExportTraceResponse(response->body);
    if (partial) {
      outcome.rejected_spans = partial->rejected_spans;
      outcome.message = Cut(partial->error_message);
    } else {
      // The spans were accepted; an unreadable success body is worth a log line, not a resend.
      outcome.message = Cut(partial.error().message);
    }
    return outcome;
  }
  outcome.message = fmt::format("HTTP {}: {}", response->status, Cut(response->body));
  if (IsRetryableStatus(response->status)) {
    outcome.disposition = ExportDisposition::kRetryable;
    outcome.retry_after = ParseRetryAfter(response->Header("retry-after"));
  } else {
    outcome.disposition = ExportDisposition::kPermanent;
  }
  return outcome;
}

std::optional<Nanos> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty() || value.size() > 6) return std::nullopt;
  int64_t seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  if (seconds > 86400) return std::nullopt;
  return std::chrono::seconds(seconds);
}

Nanos Backoff(int attempt, uint64_t jitter_seed) {
  attempt = std::clamp(attempt, 0, 62);
  Nanos ceiling = kBackoffCap;
  // 2^9 s already passes the 5 min cap; avoid shifting further than needed.
  if (attempt < 20) ceiling = std::min(kBackoffCap, kBackoffBase * (int64_t{1} << attempt));
  ceiling = std::max(ceiling, kBackoffFloor);
  uint64_t span = static_cast<uint64_t>((ceiling - kBackoffFloor).count()) + 1;
  uint64_t r = Mix(jitter_seed ^ Mix(static_cast<uint64_t>(attempt)));
  return kBackoffFloor + Nanos(static_cast<int64_t>(r % span));
}

}  // namespace aitelemetry::trace
