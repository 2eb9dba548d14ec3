#include "collect/prom_source.h"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "collect/exporter_source.h"
#include "collect/fake_http_server.h"
#include "collect/mapper.h"
#include "collect/prom_json.h"
#include "collect/test_util.h"

namespace aitelemetry::collect {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::ReadFixture;

const char kOkAnswer[] =
    R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"x"},"value":[1700000000,"1"]}]}})";

PrometheusSourceOptions Options(const std::string& url) {
  PrometheusSourceOptions o;
  o.url = url;
  o.timeout = std::chrono::milliseconds(2000);
  o.retries = 2;
  o.retry_backoff = std::chrono::milliseconds(5);
  return o;
}

std::string TempFile(const std::string& name, const std::string& contents) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  return path;
}

TEST(PrometheusSource, QueryPostsFormAndParses) {
  FakeHttpServer server(
      [](const FakeRequest&) { return FakeHttpServer::Response(200, kOkAnswer); });
  PrometheusSourceOptions o = Options(server.url() + "/api/metrics/v1/tenant/");
  o.bearer_token_file = TempFile("token1", "s3cret\n");
  PrometheusSource source(o);
  Result<SampleSet> r = source.Query("up{job=\"x\"}", FromUnixSeconds(1700000000.5));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->Label(r->samples()[0], "job"), "x");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].path, "/api/metrics/v1/tenant/api/v1/query");
  EXPECT_EQ(reqs[0].body, "query=up%7Bjob%3D%22x%22%7D&time=1700000000.500");
  EXPECT_NE(reqs[0].headers.find("Authorization: Bearer s3cret"), std::string::npos);
}

TEST(PrometheusSource, QueryRangeSendsStartEndStep) {
  FakeHttpServer server(
      [](const FakeRequest&) { return FakeHttpServer::Response(200, ReadFixture("matrix.json")); });
  PrometheusSource source(Options(server.url()));
  Result<SampleSet> r = source.QueryRange("up", FromUnixSeconds(1700000000),
                                          FromUnixSeconds(1700000060), std::chrono::seconds(15));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->result_type(), ResultType::kMatrix);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/api/v1/query_range");
  EXPECT_EQ(reqs[0].body, "query=up&start=1700000000.000&end=1700000060.000&step=15.000");
  Result<SampleSet> bad =
      source.QueryRange("up", FromUnixSeconds(2), FromUnixSeconds(1), std::chrono::seconds(1));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST(PrometheusSource, ErrorPaths) {
  struct Case {
    std::string name;
    std::function<std::string(FakeHttpServer*)> respond;
    ErrorCode code;
    size_t attempts;
    std::string want;
  };
  const Case cases[] = {
      {"500 retried then fails",
       [](FakeHttpServer*) { return FakeHttpServer::Response(500, "oops", "text/plain"); },
       ErrorCode::kUnavailable, 3, "HTTP 500"},
      {"html 502",
       [](FakeHttpServer*) {
         return FakeHttpServer::Response(502, ReadFixture("html_502.html"), "text/html");
       },
       ErrorCode::kUnavailable, 3, "HTTP 502: <html>"},
      {"bad_data 400 not retried",
       [](FakeHttpServer*) {
         return FakeHttpServer::Response(400, ReadFixture("error_bad_data.json"));
       },
       ErrorCode::kInvalidArgument, 1, "prometheus bad_data"},
      {"403 not retried", [](FakeHttpServer*) { return FakeHttpServer::Response(403, "no"); },
       ErrorCode::kPermissionDenied, 1, "HTTP 403"},
      {"html with 200",
       [](FakeHttpServer*) {
         return FakeHttpServer::Response(200, ReadFixture("html_502.html"), "text/html");
       },
       ErrorCode::kUnavailable, 1, "HTTP 200: malformed"},
      {"truncated json body",
       [](FakeHttpServer*) {
         return FakeHttpServer::Response(200, std::string(kOkAnswer).substr(0, 50));
       },
       ErrorCode::kUnavailable, 1, "malformed"},
      {"connection closed mid-body",
       [](FakeHttpServer*) {
         std::string full = FakeHttpServer::Response(200, kOkAnswer);
         return full.substr(0, full.size() - 20);
       },
       ErrorCode::kUnavailable, 3, "127.0.0.1"},
      {"hang past the timeout",
       [](FakeHttpServer* s) {
         s->Stall(std::chrono::milliseconds(350));
         return std::string();
       },
       // The one-connection server queues retries while it stalls: do not count them.
       ErrorCode::kDeadlineExceeded, 0, "127.0.0.1"},
  };
  for (const Case& c : cases) {
    FakeHttpServer* self = nullptr;
    FakeHttpServer server([&](const FakeRequest&) { return c.respond(self); });
    self = &server;
    PrometheusSourceOptions o = Options(server.url());
    o.timeout = std::chrono::milliseconds(300);
    PrometheusSource source(o);
    Result<SampleSet> r = source.Query("up", FromUnixSeconds(1700000000));
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code, c.code) << c.name << ": " << r.error().message;
    EXPECT_NE(r.error().message.find(server.url()), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(c.want), std::string::npos)
        << c.name << ": " << r.error().message;
    if (c.attempts > 0) {
      EXPECT_EQ(server.requests().size(), c.attempts) << c.name;
    }
  }
}

TEST(PrometheusSource, RecoversFromOneServerError) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest&) {
    return ++calls == 1 ? FakeHttpServer::Response(503, "busy", "text/plain")
                        : FakeHttpServer::Response(200, kOkAnswer);
  });
  PrometheusSource source(Options(server.url()));
  Result<SampleSet> r = source.Query("up", FromUnixSeconds(1700000000));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(calls.load(), 2);
}

TEST(PrometheusSource, OAuth2TokenCachedAndRefreshedOn401) {
  std::atomic<int> tokens{0};
  FakeHttpServer idp([&](const FakeRequest& req) {
    if (req.body.find("grant_type=client_credentials") == std::string::npos ||
        req.body.find("client_id=aitel") == std::string::npos ||
        req.body.find("client_secret=shh") == std::string::npos ||
        req.body.find("scope=openid%20metrics") == std::string::npos) {
      return FakeHttpServer::Response(401, R"({"error":"invalid_client"})");
    }
    int n = ++tokens;
    return FakeHttpServer::Response(200, R"({"access_token":"tok)" + std::to_string(n) +
                                             R"(","token_type":"Bearer","expires_in":300})");
  });
  FakeHttpServer prom([&](const FakeRequest& req) {
    // The first token is "revoked": only tok2 and later pass.
    if (req.headers.find("Authorization: Bearer tok1") != std::string::npos) {
      return FakeHttpServer::Response(401, "unauthorized", "text/plain");
    }
    return FakeHttpServer::Response(200, kOkAnswer);
  });
  PrometheusSourceOptions o = Options(prom.url());
  o.oauth2.token_url = idp.url() + "/token";
  o.oauth2.client_id = "aitel";
  o.oauth2.client_secret_file = TempFile("secret", "shh\n");
  o.oauth2.scopes = {"openid", "metrics"};
  PrometheusSource source(o);
  ASSERT_TRUE(source.Query("up", FromUnixSeconds(1700000000)));
  EXPECT_EQ(tokens.load(), 2);
  ASSERT_TRUE(source.Query("up", FromUnixSeconds(1700000000)));
  EXPECT_EQ(tokens.load(), 2);  // cached
  EXPECT_EQ(prom.requests().size(), 3u);

  // A server that refuses every token fails with kUnauthenticated after one refresh.
  FakeHttpServer deny([](const FakeRequest&) { return FakeHttpServer::Response(401, "no"); });
  o.url = deny.url();
  PrometheusSource denied(o);
  Result<SampleSet> r = denied.Query("up", FromUnixSeconds(1700000000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated) << r.error().message;
  EXPECT_EQ(deny.requests().size(), 2u);
}

TEST(PrometheusSource, BearerFileReReadWhenItChanges) {
  FakeHttpServer server(
      [](const FakeRequest&) { return FakeHttpServer::Response(200, kOkAnswer); });
  PrometheusSourceOptions o = Options(server.url());
  o.bearer_token_file = TempFile("rotating", "first");
  PrometheusSource source(o);
  ASSERT_TRUE(source.Query("up", FromUnixSeconds(1700000000)));
  TempFile("rotating", "second-token");
  ASSERT_TRUE(source.Query("up", FromUnixSeconds(1700000000)));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_NE(reqs[0].headers.find("Bearer first"), std::string::npos);
  EXPECT_NE(reqs[1].headers.find("Bearer second-token"), std::string::npos);

  o.bearer_token_file = ::testing::TempDir() + "/does-not-exist";
  PrometheusSource missing(o);
  Result<SampleSet> r = missing.Query("up", FromUnixSeconds(1700000000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
}

// An answer of `n` GPU temperature series, about 200 bytes each.
std::string ManySeries(int n) {
  std::string body = R"({"status":"success","data":{"resultType":"vector","result":[)";
  for (int i = 0; i < n; ++i) {
    body += fmt::format(
        R"({}{{"metric":{{"__name__":"DCGM_FI_DEV_GPU_TEMP","UUID":"GPU-{:08d}","hostname":"node-{}","gpu":"{}"}},"value":[1700000000,"{}"]}})",
        i ? "," : "", i, i / 8, i % 8, 30 + i % 50);
  }
  return body + "]}}";
}

TEST(PrometheusSource, LargeAnswerArrivesInPiecesAndMatchesTheWholeBodyParse) {
  const std::string body = ManySeries(20000);  // about 3 MB: many pieces from curl
  FakeHttpServer server([&](const FakeRequest&) { return FakeHttpServer::Response(200, body); });
  PrometheusSource source(Options(server.url()));
  Result<SampleSet> r = source.Query("DCGM_FI_DEV_GPU_TEMP", FromUnixSeconds(1700000000));
  ASSERT_TRUE(r) << r.error().message;
  Result<SampleSet> want = ParsePrometheusResponse(body);
  ASSERT_TRUE(want);
  ASSERT_EQ(r->size(), want->size());
  EXPECT_EQ(r->Label(r->samples()[19999], "UUID"), "GPU-00019999");
  EXPECT_EQ(r->samples()[19999].value, want->samples()[19999].value);

  Mapper mapper("h", "c");
  Mapper::AnswerSink sink(&mapper);
  ASSERT_TRUE(source.QueryInto("DCGM_FI_DEV_GPU_TEMP", FromUnixSeconds(1700000000), &sink));
  Snapshot snap = mapper.Finish();
  EXPECT_EQ(snap.series, 20000u);
  EXPECT_EQ(snap.gpus.size(), 20000u);
  EXPECT_EQ(snap.nodes.size(), 2500u);
}

// A transfer that breaks off after series reached the mapper is retried; the series mapped twice
// count once and map to the same entities.
TEST(PrometheusSource, TransferBrokenMidBodyIsRetriedAndCountedOnce) {
  const std::string body = ManySeries(5000);
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest&) {
    std::string full = FakeHttpServer::Response(200, body);
    // The first two attempts lose the connection two thirds of the way through the body.
    return ++calls <= 2 ? full.substr(0, full.size() * 2 / 3) : full;
  });
  PrometheusSource source(Options(server.url()));
  Mapper mapper("h", "c");
  Mapper::AnswerSink sink(&mapper);
  Status st = source.QueryInto("DCGM_FI_DEV_GPU_TEMP", FromUnixSeconds(1700000000), &sink);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(calls.load(), 3);
  Snapshot snap = mapper.Finish();
  EXPECT_EQ(snap.series, 5000u);
  EXPECT_EQ(snap.unmapped_series, 0u);
  ASSERT_EQ(snap.gpus.size(), 5000u);
  EXPECT_EQ(snap.nodes[0].gpu_count, 8);
  EXPECT_DOUBLE_EQ(snap.gpus[4999].readings.Get(Signal::kTemperature), 30 + 4999 % 50);
}

TEST(ExporterSource, ScrapesAndStampsAndAddsCluster) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeHttpServer::Response(200, ReadFixture("dcgm_exporter.txt"),
                                    "text/plain; version=0.0.4");
  });
  ExporterSourceOptions o;
  o.targets = {{server.url() + "/metrics", "bare-metal-a"}, {server.url() + "/metrics", ""}};
  o.retry_backoff = std::chrono::milliseconds(5);
  ExporterSource source(o);
  Result<SampleSet> r = source.Scrape(FromUnixSeconds(1700000999));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 26u);
  EXPECT_EQ(r->samples()[0].timestamp_ms, 1700000999000);
  EXPECT_EQ(r->Label(r->samples()[0], "cluster"), "bare-metal-a");
  EXPECT_EQ(r->Label(r->samples()[13], "cluster"), "");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_NE(reqs[0].headers.find("text/plain;version=0.0.4"), std::string::npos);
}

TEST(ExporterSource, OneBadTargetFailsTheScrape) {
  FakeHttpServer good([](const FakeRequest&) { return FakeHttpServer::Response(200, "up 1\n"); });
  FakeHttpServer bad([](const FakeRequest&) {
    return FakeHttpServer::Response(200, "up 1\nup{a=\"\\q\"} 1\n", "text/plain");
  });
  ExporterSourceOptions o;
  o.targets = {{good.url() + "/metrics", ""}, {bad.url() + "/metrics", ""}};
  ExporterSource source(o);
  Result<SampleSet> r = source.Scrape(FromUnixSeconds(1700000000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find(bad.url() + "/metrics: line 2"), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace aitelemetry::collect
