// Exports spans to the OTLP/HTTP test receiver (tests/otlp_receiver/server.mjs), which decodes them
// with the OpenTelemetry protobuf definitions, and checks what it accepted and what it refused.
// Needs `node` on PATH and `npm ci` run at the repository root; skipped (with the reason) without.
#include <chrono>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/client.h"
#include "trace/otlp_exporter.h"
#include "trace/otlp_json.h"
#include "trace/session_identity.h"
#include "trace/test_support.h"

namespace aitelemetry::trace {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

using test_support::Receiver;

SpanRecord SessionSpan(const std::string& fingerprint, const char* starts_at, const char* ends_at) {
  AlertIdentity identity{fingerprint, *ParseRfc3339(starts_at)};
  SpanRecord span;
  span.trace_id = TraceIdFor(identity);
  span.span_id = SpanIdFor(identity);
  span.name = "gpu.session";
  span.start = identity.starts_at;
  span.end = *ParseRfc3339(ends_at);
  span.attributes = {
      {kAttrClusterName, std::string("nerc-ocp-prod")},
      {kAttrNamespaceName, std::string("ai-lab")},
      {kAttrPodName, std::string("notebook-0")},
      {kAttrGpuUuid, std::string("GPU-5f1c2a3b-0000-4000-8000-000000000001")},
      {kAttrGpuActiveSeconds, 5400.25},
      {kAttrGpuMemoryPeakBytes, int64_t{42949672960}},
      {"gpu.mig", false},
  };
  span.events = {
      {*ParseRfc3339("2026-11-01T11:00:00Z"), "gpu.xid", {{"gpu.xid.code", int64_t{79}}}}};
  span.status_code = SpanStatusCode::kOk;
  return span;
}

class OtlpReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test_support::ReceiverInstalled()) {
      GTEST_FAIL() << "node_modules missing: run `npm ci` (scripts/setup does)";
    }
    std::string problem = receiver_.Start();
    ASSERT_TRUE(problem.empty()) << problem;
  }

  Receiver receiver_;
};

TEST_F(OtlpReceiverTest, AcceptsExportedSpansWithExactIdsAndTimes) {
  std::vector<SpanRecord> spans = {
      SessionSpan("a1b2c3d4e5f60718", "2026-11-01T10:15:30.123456789Z",
                  "2026-11-01T12:00:00.000000001Z"),
      SessionSpan("00ff00ff00ff00ff", "2026-11-01T09:00:00Z", "2026-11-01T10:30:00.5Z"),
  };
  OtlpExporter exporter({receiver_.url(), {{"X-Tenant", "t"}}, {}, 5000ms});
  ExportOutcome outcome = exporter.Export(EncodeExportTraceRequest(spans, {"0.1.0", {}}));
  ASSERT_EQ(outcome.disposition, ExportDisposition::kOk) << outcome.message;
  EXPECT_EQ(outcome.http_status, 200);
  EXPECT_EQ(outcome.rejected_spans, 0);

  Json got = receiver_.Call("GET", "/spans");
  ASSERT_EQ(got.size(), 2u) << got.dump();
  for (size_t i = 0; i < spans.size(); ++i) {
    const Json& s = got[i];
    EXPECT_EQ(s["traceId"], ToHex(spans[i].trace_id));
    EXPECT_EQ(s["spanId"], ToHex(spans[i].span_id));
    EXPECT_EQ(s["name"], "gpu.session");
    EXPECT_EQ(s["kind"], 1);
    EXPECT_EQ(s["startTimeUnixNano"], std::to_string(ToUnixNanos(spans[i].start)));
    EXPECT_EQ(s["endTimeUnixNano"], std::to_string(ToUnixNanos(spans[i].end)));
    EXPECT_EQ(s["attributes"]["k8s.cluster.name"], "nerc-ocp-prod");
    EXPECT_EQ(s["attributes"]["gpu.memory.peak_bytes"], "42949672960");
    EXPECT_EQ(s["attributes"]["gpu.active_seconds"], 5400.25);
    EXPECT_EQ(s["attributes"]["gpu.mig"], false);
    EXPECT_EQ(s["events"][0]["timeUnixNano"], "1793530800000000000");
    EXPECT_EQ(s["events"][0]["attributes"]["gpu.xid.code"], "79");
    EXPECT_EQ(s["status"]["code"], 1);
    EXPECT_EQ(s["resource"]["service.name"], "aitelemetry");
    EXPECT_EQ(s["resource"]["service.version"], "0.1.0");
    EXPECT_EQ(s["scope"], "aitelemetry");
  }
  EXPECT_EQ(got[0]["startTimeUnixNano"], "1793528130123456789");
  EXPECT_EQ(got[0]["endTimeUnixNano"], "1793534400000000001");
}

TEST_F(OtlpReceiverTest, RejectsWhatTheOtlpJsonMappingForbids) {
  std::string good = EncodeExportTraceRequest(
      {SessionSpan("a1b2c3d4e5f60718", "2026-11-01T10:15:30Z", "2026-11-01T11:00:00Z")},
      {"0.1.0", {}});
  struct Case {
    std::string name;
    std::string from;
    std::string to;
  };
  const Case cases[] = {
      {"string enum kind", R"("kind":1)", R"("kind":"SPAN_KIND_INTERNAL")"},
      {"string enum status", R"("code":1)", R"("code":"STATUS_CODE_OK")"},
      {"snake_case key", R"("startTimeUnixNano")", R"("start_time_unix_nano")"},
      {"base64 span id", R"("spanId":")", R"("spanId":"AAAA)"},
      {"short trace id", R"("traceId":")", R"("traceId":"ab)"},
  };
  OtlpExporter exporter({receiver_.url(), {}, {}, 5000ms});
  for (const auto& c : cases) {
    std::string body = good;
    size_t at = body.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.name;
    body.replace(at, c.from.size(), c.to);
    ExportOutcome outcome = exporter.Export(body);
    EXPECT_EQ(outcome.disposition, ExportDisposition::kPermanent) << c.name;
    EXPECT_EQ(outcome.http_status, 400) << c.name << ": " << outcome.message;
  }
  EXPECT_TRUE(receiver_.Call("GET", "/spans").empty());
}

TEST_F(OtlpReceiverTest, OutageIsRetryableAndResendKeepsIds) {
  std::string body = EncodeExportTraceRequest(
      {SessionSpan("a1b2c3d4e5f60718", "2026-11-01T10:15:30Z", "2026-11-01T11:00:00Z")},
      {"0.1.0", {}});
  OtlpExporter exporter({receiver_.url(), {}, {}, 5000ms});
  receiver_.Call("POST", "/control", R"({"fail":503})");
  ExportOutcome down = exporter.Export(body);
  EXPECT_EQ(down.disposition, ExportDisposition::kRetryable) << down.message;
  EXPECT_EQ(down.http_status, 503);
  EXPECT_EQ(down.retry_after, Nanos(1s));
  EXPECT_TRUE(receiver_.Call("GET", "/spans").empty());

  receiver_.Call("POST", "/control", R"({"fail":0})");
  ExportOutcome up = exporter.Export(body);
  ASSERT_EQ(up.disposition, ExportDisposition::kOk) << up.message;
  Json got = receiver_.Call("GET", "/spans");
  ASSERT_EQ(got.size(), 1u);
  AlertIdentity identity{"a1b2c3d4e5f60718", *ParseRfc3339("2026-11-01T10:15:30Z")};
  EXPECT_EQ(got[0]["traceId"], ToHex(TraceIdFor(identity)));
  EXPECT_EQ(got[0]["spanId"], ToHex(SpanIdFor(identity)));
}

}  // namespace
}  // namespace aitelemetry::trace
