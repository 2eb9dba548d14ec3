#include "trace/otlp_json.h"

#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

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

// The encoder as it was first written: a JSON document, dumped. The streaming encoder must give
// the very same bytes (outbox rows written before and after the change export identical bodies).
Json DocumentAttributes(const std::vector<Attribute>& attributes) {
  Json out = Json::array();
  for (const auto& a : attributes) {
    Json value = Json::object();
    if (const auto* s = std::get_if<std::string>(&a.value)) {
      value["stringValue"] = *s;
    } else if (const auto* i = std::get_if<int64_t>(&a.value)) {
      value["intValue"] = std::to_string(*i);
    } else if (const auto* d = std::get_if<double>(&a.value)) {
      if (std::isnan(*d)) {
        value["doubleValue"] = "NaN";
      } else if (std::isinf(*d)) {
        value["doubleValue"] = *d > 0 ? "Infinity" : "-Infinity";
      } else {
        value["doubleValue"] = *d;
      }
    } else {
      value["boolValue"] = std::get<bool>(a.value);
    }
    out.push_back(Json{{"key", a.key}, {"value", std::move(value)}});
  }
  return out;
}

std::string DocumentEncode(const std::vector<SpanRecord>& spans, const ResourceInfo& resource) {
  auto nanos = [](Timestamp t) { return std::to_string(ToUnixNanos(t)); };
  std::vector<Attribute> resource_attributes = {{kAttrServiceName, std::string("aitelemetry")},
                                                {kAttrServiceVersion, resource.service_version}};
  resource_attributes.insert(resource_attributes.end(), resource.extra_attributes.begin(),
                             resource.extra_attributes.end());
  Json span_list = Json::array();
  for (const auto& span : spans) {
    Json out = Json::object();
    out["traceId"] = ToHex(span.trace_id);
    out["spanId"] = ToHex(span.span_id);
    out["name"] = span.name;
    out["kind"] = static_cast<int>(span.kind);
    out["startTimeUnixNano"] = nanos(span.start);
    out["endTimeUnixNano"] = nanos(span.end);
    out["attributes"] = DocumentAttributes(span.attributes);
    Json events = Json::array();
    for (const auto& e : span.events) {
      events.push_back(Json{{"timeUnixNano", nanos(e.time)},
                            {"name", e.name},
                            {"attributes", DocumentAttributes(e.attributes)}});
    }
    out["events"] = std::move(events);
    Json status = Json::object();
    status["code"] = static_cast<int>(span.status_code);
    if (!span.status_message.empty()) status["message"] = span.status_message;
    out["status"] = std::move(status);
    span_list.push_back(std::move(out));
  }
  Json scope_spans = Json::array();
  scope_spans.push_back(
      Json{{"scope", Json{{"name", kScopeName}}}, {"spans", std::move(span_list)}});
  Json resource_spans = Json::array();
  resource_spans.push_back(
      Json{{"resource", Json{{"attributes", DocumentAttributes(resource_attributes)}}},
           {"scopeSpans", std::move(scope_spans)}});
  return Json{{"resourceSpans", std::move(resource_spans)}}.dump(-1, ' ', false,
                                                                 Json::error_handler_t::replace);
}

TEST(EncodeExportTraceRequest, IsByteForByteTheDocumentEncoding) {
  std::mt19937_64 rng(20261101);
  // Bytes that need no escape, escapes, controls, DEL, valid UTF-8 and broken UTF-8.
  const std::vector<std::string> pieces = {"a",
                                           "Z",
                                           "0",
                                           " ",
                                           ".",
                                           "-",
                                           "/",
                                           "{",
                                           "\"",
                                           "\\",
                                           "\n",
                                           "\t",
                                           "\x01",
                                           "\x1f",
                                           "\x7f",
                                           "\xc3\xa9",
                                           "\xe2\x82\xac",
                                           "\xf0\x9f\x9a\x80",
                                           "\xff",
                                           "\x80",
                                           "\xc3",
                                           "\xe2\x82",
                                           "%"};
  auto text = [&] {
    std::string out;
    for (int n = static_cast<int>(rng() % 12); n > 0; --n) out += pieces[rng() % pieces.size()];
    return out;
  };
  const double specials[] = {0.0,
                             -0.0,
                             0.1,
                             1.5,
                             3600.0,
                             4500.000000000001,
                             1e21,
                             1e-7,
                             123456789012345678.0,
                             5e-324,
                             std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::lowest(),
                             std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity()};
  auto value = [&]() -> AttributeValue {
    switch (rng() % 6) {
      case 0:
        return text();
      case 1:
        return static_cast<int64_t>(rng());
      case 2:
        return specials[rng() % std::size(specials)];
      case 3: {
        uint64_t bits = rng();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return d;
      }
      case 4:
        return rng() % 2 == 0;
      default:
        return static_cast<double>(static_cast<int64_t>(rng() % 100000)) / 7;
    }
  };
  auto attributes = [&] {
    std::vector<Attribute> out;
    for (int n = static_cast<int>(rng() % 6); n > 0; --n) out.push_back({text(), value()});
    return out;
  };
  for (int round = 0; round < 300; ++round) {
    std::vector<SpanRecord> spans;
    for (int n = static_cast<int>(rng() % 4); n > 0; --n) {
      SpanRecord span;
      for (auto& b : span.trace_id) b = static_cast<uint8_t>(rng());
      for (auto& b : span.span_id) b = static_cast<uint8_t>(rng());
      span.name = text();
      span.start = Timestamp(Nanos(static_cast<int64_t>(rng() >> 2)));
      span.end = Timestamp(Nanos(static_cast<int64_t>(rng() >> 2)));
      span.attributes = attributes();
      for (int e = static_cast<int>(rng() % 3); e > 0; --e) {
        span.events.push_back(
            {Timestamp(Nanos(static_cast<int64_t>(rng() >> 2))), text(), attributes()});
      }
      span.status_code = static_cast<SpanStatusCode>(rng() % 3);
      if (rng() % 2) span.status_message = text();
      spans.push_back(std::move(span));
    }
    ResourceInfo resource{text(), attributes()};
    ASSERT_EQ(EncodeExportTraceRequest(spans, resource), DocumentEncode(spans, resource))
        << "round " << round;
  }
  ResourceInfo resource{"0.1.0", {}};
  EXPECT_EQ(EncodeExportTraceRequest({SampleSpan()}, resource),
            DocumentEncode({SampleSpan()}, resource));
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
