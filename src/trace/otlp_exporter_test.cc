#include "trace/otlp_exporter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace aitelemetry::trace {
namespace {

using namespace std::chrono_literals;

// A one-thread HTTP/1.1 responder on 127.0.0.1 that answers every request with one canned
// response and remembers the last request. Enough HTTP for libcurl: reads the head and a
// Content-Length body, answers with Connection: close.
class TinyResponder {
 public:
  struct Canned {
    int status = 200;
    std::string extra_headers;  // "Name: value\r\n" lines
    std::string body;
    std::chrono::milliseconds delay{0};
  };

  explicit TinyResponder(Canned canned) : canned_(std::move(canned)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listen_fd_, 16);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~TinyResponder() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }

  int port() const { return port_; }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }

  std::string last_request() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_request_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      std::string request = ReadRequest(fd);
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_request_ = request;
      }
      auto until = std::chrono::steady_clock::now() + canned_.delay;
      while (!stop_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
      std::string response = fmt::format(
          "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
          "Connection: close\r\n{}\r\n{}",
          canned_.status, canned_.body.size(), canned_.extra_headers, canned_.body);
      (void)!write(fd, response.data(), response.size());
      close(fd);
    }
  }

  static std::string ReadRequest(int fd) {
    std::string data;
    char buf[4096];
    size_t want = std::string::npos;
    while (data.size() < want) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) break;
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
      size_t head_end = data.find("\r\n\r\n");
      if (want == std::string::npos && head_end != std::string::npos) {
        size_t length = 0;
        size_t at = data.find("Content-Length: ");
        if (at == std::string::npos) at = data.find("content-length: ");
        if (at != std::string::npos && at < head_end) length = std::stoul(data.substr(at + 16));
        want = head_end + 4 + length;
      }
    }
    return data;
  }

  Canned canned_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::string last_request_;  // guarded by mu_
};

// Returns a loopback port nothing listens on.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(OtlpExporter, ClassifiesResponses) {
  struct Case {
    std::string name;
    TinyResponder::Canned canned;
    ExportDisposition want;
    int64_t rejected = 0;
    std::optional<Nanos> retry_after;
  };
  const Case cases[] = {
      {"200 empty", {200, "", ""}, ExportDisposition::kOk},
      {"200 full success", {200, "", "{}"}, ExportDisposition::kOk},
      {"200 partial",
       {200, "", R"({"partialSuccess":{"rejectedSpans":"2","errorMessage":"too old"}})"},
       ExportDisposition::kOk,
       2},
      {"202 unreadable body", {202, "", "<html>"}, ExportDisposition::kOk},
      {"429 retry-after", {429, "Retry-After: 7\r\n", ""}, ExportDisposition::kRetryable, 0, 7s},
      {"429 http-date",
       {429, "Retry-After: Wed, 21 Oct 2026 07:28:00 GMT\r\n", ""},
       ExportDisposition::kRetryable},
      {"502", {502, "", ""}, ExportDisposition::kRetryable},
      {"503 retry-after", {503, "Retry-After: 30\r\n", ""}, ExportDisposition::kRetryable, 0, 30s},
      {"504", {504, "", ""}, ExportDisposition::kRetryable},
      {"400", {400, "", R"({"code":3,"message":"bad kind"})"}, ExportDisposition::kPermanent},
      {"401", {401, "", ""}, ExportDisposition::kPermanent},
      {"404", {404, "", ""}, ExportDisposition::kPermanent},
      {"413", {413, "", ""}, ExportDisposition::kPermanent},
      {"500", {500, "", ""}, ExportDisposition::kPermanent},
  };
  for (const auto& c : cases) {
    TinyResponder responder(c.canned);
    OtlpExporter exporter({responder.url(), {}, {}, 5000ms});
    ExportOutcome outcome = exporter.Export("{}");
    EXPECT_EQ(outcome.disposition, c.want) << c.name << ": " << outcome.message;
    EXPECT_EQ(outcome.http_status, c.canned.status) << c.name;
    EXPECT_EQ(outcome.rejected_spans, c.rejected) << c.name;
    EXPECT_EQ(outcome.retry_after, c.retry_after) << c.name;
  }
}

TEST(OtlpExporter, PostsJsonToV1TracesWithHeaders) {
  TinyResponder responder({200, "", "{}"});
  OtlpExporter exporter(
      {responder.url() + "/", {{"X-Scope-OrgID", "tenant-a"}, {"Authorization", "Bearer t"}}});
  EXPECT_EQ(exporter.url(), responder.url() + "/v1/traces");
  ExportOutcome outcome = exporter.Export(R"({"resourceSpans":[]})");
  ASSERT_EQ(outcome.disposition, ExportDisposition::kOk) << outcome.message;
  std::string request = responder.last_request();
  EXPECT_TRUE(request.starts_with("POST /v1/traces HTTP/1.1\r\n")) << request;
  EXPECT_NE(request.find("Content-Type: application/json\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("X-Scope-OrgID: tenant-a\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("Authorization: Bearer t\r\n"), std::string::npos) << request;
  EXPECT_TRUE(request.ends_with("\r\n\r\n{\"resourceSpans\":[]}")) << request;
}

TEST(OtlpExporter, ErrorBodyIsKeptShort) {
  TinyResponder responder({400, "", std::string(10000, 'e')});
  OtlpExporter exporter({responder.url()});
  ExportOutcome outcome = exporter.Export("{}");
  EXPECT_EQ(outcome.disposition, ExportDisposition::kPermanent);
  EXPECT_LT(outcome.message.size(), 600u);
  EXPECT_TRUE(outcome.message.starts_with("HTTP 400: eee")) << outcome.message;
}

TEST(OtlpExporter, ConnectionRefusedIsRetryable) {
  OtlpExporter exporter({fmt::format("http://127.0.0.1:{}", ClosedPort()), {}, {}, 2000ms});
  ExportOutcome outcome = exporter.Export("{}");
  EXPECT_EQ(outcome.disposition, ExportDisposition::kRetryable);
  EXPECT_EQ(outcome.http_status, 0);
  EXPECT_FALSE(outcome.message.empty());
}

TEST(OtlpExporter, TimeoutIsRetryable) {
  TinyResponder responder({200, "", "{}", 2000ms});
  OtlpExporter exporter({responder.url(), {}, {}, 200ms});
  auto started = std::chrono::steady_clock::now();
  ExportOutcome outcome = exporter.Export("{}");
  EXPECT_EQ(outcome.disposition, ExportDisposition::kRetryable) << outcome.message;
  EXPECT_EQ(outcome.http_status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
}

TEST(ValidateOtlpOptions, ChecksEndpoint) {
  for (const char* good :
       {"http://collector:4318", "https://otel.example.org/otlp/", "http://127.0.0.1:4318"}) {
    EXPECT_TRUE(ValidateOtlpOptions({good}).has_value()) << good;
  }
  for (const char* bad : {"", "collector:4318", "ftp://x", "http://", "http:///v1",
                          "http://x:4318/?a=b", "http://x#f"}) {
    auto status = ValidateOtlpOptions({bad});
    ASSERT_FALSE(status.has_value()) << bad;
    EXPECT_TRUE(status.error().message.starts_with("otlp.endpoint")) << status.error().message;
  }
  EXPECT_FALSE(ValidateOtlpOptions({"http://x", {}, {}, 0ms}).has_value());
}

TEST(ParseRetryAfter, DelaySecondsOnly) {
  EXPECT_EQ(ParseRetryAfter("0"), Nanos(0));
  EXPECT_EQ(ParseRetryAfter(" 120 "), Nanos(120s));
  EXPECT_EQ(ParseRetryAfter("86400"), Nanos(86400s));
  for (const char* bad : {"", "-1", "1.5", "86401", "9999999", "Wed, 21 Oct 2026 07:28:00 GMT"}) {
    EXPECT_FALSE(ParseRetryAfter(bad).has_value()) << bad;
  }
}

TEST(Backoff, GrowsExponentiallyWithinCapAndJitters) {
  for (uint64_t seed : {0ull, 1ull, 42ull, ~0ull}) {
    for (int attempt = -1; attempt < 70; ++attempt) {
      Nanos d = Backoff(attempt, seed);
      Nanos ceiling = attempt < 9 ? Nanos(1s) * (int64_t{1} << std::max(attempt, 0)) : Nanos(5min);
      EXPECT_GE(d, kBackoffFloor) << attempt;
      EXPECT_LE(d, std::min(ceiling, Nanos(5min))) << attempt;
      EXPECT_EQ(d, Backoff(attempt, seed)) << "deterministic";
    }
  }
  // Full jitter: different seeds spread over the window.
  std::set<int64_t> delays;
  Nanos total{0};
  for (uint64_t seed = 0; seed < 1000; ++seed) {
    Nanos d = Backoff(20, seed);
    delays.insert(d.count());
    total += d;
  }
  EXPECT_GT(delays.size(), 990u);
  Nanos mean = total / 1000;
  EXPECT_GT(mean, Nanos(120s));
  EXPECT_LT(mean, Nanos(180s));
}

}  // namespace
}  // namespace aitelemetry::trace
