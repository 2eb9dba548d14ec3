#include "trace/otlp_json.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace aitelemetry::trace {
namespace {

using Json = nlohmann::json;

SpanRecord SampleSpan() {
  SpanRecord span;
  span.trace_id = *ParseTraceIdHex("5b8efff798038103d269b633813fc60c");
  span.span_id = *ParseSpanIdHex("eee19b7ec3c1b174");
  span.name = "gpu.session";
  span.start = *ParseRfc3339("2026-11-01T10:15:30.123456789Z");
  span.end = *ParseRfc3339("2026-11-01T12:00:00.000000001Z");
  span.attributes = {
      {kAttrClusterName, std::string("nerc-ocp-prod")},
      {kAttrGpuMemoryPeakBytes, int64_t{42949672960}},
      {kAttrGpuEnergyJoules, 1.5},
      {"gpu.mig", false},
  };
  span.events = {
      {*ParseRfc3339("2026-11-01T11:00:00Z"), "gpu.xid", {{"gpu.xid.code", int64_t{79}}}}};
  span.status_code = SpanStatusCode::kError;
  span.status_message = "GPU fell off the bus";
  return span;
}

TEST(EncodeExportTraceRequest, MatchesTheOtlpJsonMapping) {
  std::string body = EncodeExportTraceRequest({SampleSpan()}, {"1.2.3", {}});
  Json doc = Json::parse(body);
  const Json& rs = doc.at("resourceSpans").at(0);
  const Json& resource_attrs = rs.at("resource").at("attributes");
  ASSERT_EQ(resource_attrs.size(), 2u);
  EXPECT_EQ(resource_attrs[0],
            Json::parse(R"({"key":"service.name","value":{"stringValue":"aitelemetry"}})"));
  EXPECT_EQ(resource_attrs[1],
            Json::parse(R"({"key":"service.version","value":{"stringValue":"1.2.3"}})"));
  const Json& ss = rs.at("scopeSpans").at(0);
  EXPECT_EQ(ss.at("scope"), Json::parse(R"({"name":"aitelemetry"})"));
  const Json& span = ss.at("spans").at(0);
  Json want = Json::parse(R"({
    "traceId": "5b8efff798038103d269b633813fc60c",
    "spanId": "eee19b7ec3c1b174",
    "name": "gpu.session",
    "kind": 1,
    "startTimeUnixNano": "1793528130123456789",
    "endTimeUnixNano": "1793534400000000001",
    "attributes": [
      {"key": "k8s.cluster.name", "value": {"stringValue": "nerc-ocp-prod"}},
      {"key": "gpu.memory.peak_bytes", "value": {"intValue": "42949672960"}},
      {"key": "gpu.energy_joules", "value": {"doubleValue": 1.5}},
      {"key": "gpu.mig", "value": {"boolValue": false}}
    ],
    "events": [
      {"timeUnixNano": "1793530800000000000", "name": "gpu.xid",
       "attributes": [{"key": "gpu.xid.code", "value": {"intValue": "79"}}]}
    ],
    "status": {"code": 2, "message": "GPU fell off the bus"}
  })");
  EXPECT_EQ(span, want) << span.dump(2);
}

TEST(EncodeExportTraceRequest, EdgeValues) {
  SpanRecord span = SampleSpan();
  span.events.clear();
  span.status_code = SpanStatusCode::kUnset;
  span.status_message.clear();
  span.attributes = {
      {"nan", std::numeric_limits<double>::quiet_NaN()},
      {"inf", std::numeric_limits<double>::infinity()},
      {"ninf", -std::numeric_limits<double>::infinity()},
      {"min", std::numeric_limits<int64_t>::min()},
      {"quote", std::string("a\"b\\c\n\x01")},
      {"bad utf8", std::string("x\xff")},
  };
  std::string body = EncodeExportTraceRequest({span}, {"v", {{"host.name", std::string("h")}}});
  Json doc = Json::parse(body);  // still valid JSON
  const Json& s = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(s["attributes"][0]["value"]["doubleValue"], "NaN");
  EXPECT_EQ(s["attributes"][1]["value"]["doubleValue"], "Infinity");
  EXPECT_EQ(s["attributes"][2]["value"]["doubleValue"], "-Infinity");
  EXPECT_EQ(s["attributes"][3]["value"]["intValue"], "-9223372036854775808");
  EXPECT_EQ(s["attributes"][4]["value"]["stringValue"], "a\"b\\c\n\x01");
  EXPECT_EQ(s["attributes"][5]["value"]["stringValue"], "x\xef\xbf\xbd");
  EXPECT_EQ(s["status"], Json::parse(R"({"code":0})"));
  EXPECT_TRUE(s["events"].empty());
  EXPECT_EQ(doc["resourceSpans"][0]["resource"]["attributes"][2]["key"], "host.name");
}

TEST(EncodeExportTraceRequest, EmptyBatchAndManySpans) {
  Json empty = Json::parse(EncodeExportTraceRequest({}, {"v", {}}));
  EXPECT_TRUE(empty["resourceSpans"][0]["scopeSpans"][0]["spans"].empty());
  std::vector<SpanRecord> spans(100, SampleSpan());
  Json many = Json::parse(EncodeExportTraceRequest(spans, {"v", {}}));
  EXPECT_EQ(many["resourceSpans"][0]["scopeSpans"][0]["spans"].size(), 100u);
}

TEST(ParseExportTraceResponse, ReadsPartialSuccess) {
  struct Case {
    std::string body;
    int64_t rejected;
    std::string message;
  };
  const Case cases[] = {
      {"", 0, ""},
      {"  \n", 0, ""},
      {"{}", 0, ""},
      {R"({"partialSuccess":{}})", 0, ""},
      {R"({"partialSuccess":null})", 0, ""},
      {R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"too old"}})", 3, "too old"},
      {R"({"partialSuccess":{"rejectedSpans":7}})", 7, ""},
      {R"({"partialSuccess":{"errorMessage":"deprecated field"}})", 0, "deprecated field"},
  };
  for (const auto& c : cases) {
    auto got = ParseExportTraceResponse(c.body);
    ASSERT_TRUE(got.has_value()) << c.body << ": " << got.error().ToString();
    EXPECT_EQ(got->rejected_spans, c.rejected) << c.body;
    EXPECT_EQ(got->error_message, c.message) << c.body;
  }
}

TEST(ParseExportTraceResponse, RejectsJunk) {
  for (const char* bad :
       {"{", "[]", R"({"partialSuccess":1})", R"({"partialSuccess":{"rejectedSpans":"x"}})",
        R"({"partialSuccess":{"rejectedSpans":"-1"}})",
        R"({"partialSuccess":{"rejectedSpans":-1}})",
        R"({"partialSuccess":{"rejectedSpans":true}})",
        R"({"partialSuccess":{"errorMessage":5}})"}) {
    auto got = ParseExportTraceResponse(bad);
    ASSERT_FALSE(got.has_value()) << bad;
    EXPECT_EQ(got.error().code, ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace aitelemetry::trace
