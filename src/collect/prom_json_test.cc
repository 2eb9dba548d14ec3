#include "collect/prom_json.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "collect/test_util.h"

namespace aitelemetry::collect {
namespace {

using testing::Mutated;
using testing::ReadFixture;
using testing::Xorshift;

TEST(ParsePrometheusResponse, VectorFixture) {
  Result<SampleSet> set = ParsePrometheusResponse(ReadFixture("vector.json"));
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->result_type(), ResultType::kVector);
  ASSERT_EQ(set->size(), 5u);
  const auto& s = set->samples();
  EXPECT_EQ(set->Metric(s[0]), "DCGM_FI_PROF_GR_ENGINE_ACTIVE");
  EXPECT_DOUBLE_EQ(s[0].value, 0.8125);
  EXPECT_EQ(s[0].timestamp_ms, 1700000000123);
  EXPECT_EQ(set->Label(s[0], "exported_namespace"), "rhods-notebooks");
  EXPECT_EQ(set->Label(s[0], "cluster"), "nerc-ocp-prod");
  EXPECT_EQ(set->Label(s[0], "__name__"), "");  // the name is not a label here
  EXPECT_EQ(s[0].labels, s[1].labels);          // same GPU, other metric: one label set
  EXPECT_EQ(set->Label(s[2], "GPU_I_PROFILE"), "3g.40gb");
  EXPECT_EQ(set->Label(s[2], "hostname"), "wrk-11");
  EXPECT_TRUE(std::isnan(s[2].value));
  EXPECT_TRUE(std::isinf(s[3].value) && s[3].value > 0);
  EXPECT_TRUE(std::isinf(s[4].value) && s[4].value < 0);
  EXPECT_EQ(s[3].timestamp_ms, 1700000000000);
  EXPECT_EQ(set->Label(s[3], "note"), "caf\xc3\xa9 \"q\"");
  ASSERT_EQ(set->warnings().size(), 1u);
  // StringId lookups give the same answer as string lookups.
  std::optional<StringId> uuid = set->FindString("UUID");
  ASSERT_TRUE(uuid);
  EXPECT_EQ(set->Label(s[2], *uuid), "GPU-7b1f0e33-5a2d-4c19-8e6b-d40a9b3c2e17");
}

TEST(ParsePrometheusResponse, MatrixFixture) {
  std::string body = ReadFixture("matrix.json");
  Result<SampleSet> set = ParsePrometheusResponseInPlace(&body);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->result_type(), ResultType::kMatrix);
  ASSERT_EQ(set->size(), 4u);
  const auto& s = set->samples();
  EXPECT_EQ(set->Metric(s[0]), "up");
  EXPECT_EQ(s[0].labels, s[2].labels);
  EXPECT_EQ(s[2].timestamp_ms, 1700000030500);
  EXPECT_EQ(s[2].value, 0);
  EXPECT_EQ(set->Metric(s[3]), "");  // an expression result without __name__
  EXPECT_EQ(s[3].value, 1000);
  EXPECT_EQ(set->Label(s[3], "job"), "node");
}

TEST(ParsePrometheusResponse, ScalarAndEmpty) {
  Result<SampleSet> scalar = ParsePrometheusResponse(
      R"({"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"42"]}})");
  ASSERT_TRUE(scalar) << scalar.error().message;
  EXPECT_EQ(scalar->result_type(), ResultType::kScalar);
  ASSERT_EQ(scalar->size(), 1u);
  EXPECT_EQ(scalar->samples()[0].value, 42);
  EXPECT_EQ(scalar->samples()[0].timestamp_ms, 1700000000500);

  Result<SampleSet> empty = ParsePrometheusResponse(
      R"({"data":{"result":[],"resultType":"matrix"},"status":"success","infos":["x"]})");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(empty->result_type(), ResultType::kMatrix);
  EXPECT_TRUE(empty->empty());
}

TEST(ParsePrometheusResponse, ErrorAnswersMapErrorType) {
  struct Case {
    std::string body;
    ErrorCode code;
    std::string want;
  };
  const Case cases[] = {
      {ReadFixture("error_bad_data.json"), ErrorCode::kInvalidArgument,
       "prometheus bad_data: invalid parameter \"query\""},
      {R"({"status":"error","errorType":"execution","error":"too many samples"})",
       ErrorCode::kInvalidArgument, "execution"},
      {R"({"status":"error","errorType":"timeout","error":"query timed out"})",
       ErrorCode::kUnavailable, "prometheus timeout: query timed out"},
      {R"({"status":"error","errorType":"unavailable","error":"x"})", ErrorCode::kUnavailable,
       "unavailable"},
      {R"({"status":"error","errorType":"not_found","error":"x"})", ErrorCode::kNotFound,
       "not_found"},
      {R"({"status":"error","errorType":"internal","error":"boom"})", ErrorCode::kInternal,
       "internal: boom"},
  };
  for (const Case& c : cases) {
    Result<SampleSet> r = ParsePrometheusResponse(c.body);
    ASSERT_FALSE(r) << c.body;
    EXPECT_EQ(r.error().code, c.code) << r.error().message;
    EXPECT_NE(r.error().message.find(c.want), std::string::npos) << r.error().message;
  }
}

TEST(ParsePrometheusResponse, RejectsHostileInput) {
  std::string deep(5000, '[');
  const std::string ok_series = R"({"metric":{"a":"b"},"value":[1,"1"]})";
  auto wrap = [](const std::string& result) {
    return R"({"status":"success","data":{"resultType":"vector","result":[)" + result + "]}}";
  };
  struct Case {
    std::string name;
    std::string body;
    ErrorCode code;
  };
  const Case cases[] = {
      {"empty", "", ErrorCode::kInvalidArgument},
      {"html", ReadFixture("html_502.html"), ErrorCode::kInvalidArgument},
      {"truncated", wrap(ok_series).substr(0, 60), ErrorCode::kInvalidArgument},
      {"trailing garbage", wrap(ok_series) + "x", ErrorCode::kInvalidArgument},
      {"not an object", "[1,2]", ErrorCode::kInvalidArgument},
      {"no status", R"({"data":{"resultType":"vector","result":[]}})", ErrorCode::kInvalidArgument},
      {"status not string", R"({"status":1,"data":{"resultType":"vector","result":[]}})",
       ErrorCode::kInvalidArgument},
      {"unknown status", R"({"status":"maybe"})", ErrorCode::kInvalidArgument},
      {"no data", R"({"status":"success"})", ErrorCode::kInvalidArgument},
      {"no resultType", R"({"status":"success","data":{"result":[]}})",
       ErrorCode::kInvalidArgument},
      {"string resultType",
       R"({"status":"success","data":{"resultType":"string","result":[1,"x"]}})",
       ErrorCode::kInvalidArgument},
      {"result not array", R"({"status":"success","data":{"resultType":"vector","result":{}}})",
       ErrorCode::kInvalidArgument},
      {"duplicate status",
       R"({"status":"success","status":"success","data":{"resultType":"vector","result":[]}})",
       ErrorCode::kInvalidArgument},
      {"duplicate data",
       R"({"status":"success","data":{"resultType":"vector","result":[]},"data":{}})",
       ErrorCode::kInvalidArgument},
      {"duplicate label", wrap(R"({"metric":{"a":"b","a":"c"},"value":[1,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"duplicate value", wrap(R"({"metric":{},"value":[1,"1"],"value":[1,"2"]})"),
       ErrorCode::kInvalidArgument},
      {"non-string value", wrap(R"({"metric":{"a":"b"},"value":[1,1]})"),
       ErrorCode::kInvalidArgument},
      {"non-string label", wrap(R"({"metric":{"a":1},"value":[1,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"NaN literal", wrap(R"({"metric":{"a":"b"},"value":[1,NaN]})"), ErrorCode::kInvalidArgument},
      {"bad float string", wrap(R"({"metric":{"a":"b"},"value":[1,"fast"]})"),
       ErrorCode::kInvalidArgument},
      {"huge number", wrap(R"({"metric":{"a":"b"},"value":[1e999,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"huge timestamp", wrap(R"({"metric":{"a":"b"},"value":[1e300,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"huge value string", wrap(R"({"metric":{"a":"b"},"value":[1,"1e999"]})"),
       ErrorCode::kInvalidArgument},
      {"string timestamp", wrap(R"({"metric":{"a":"b"},"value":["1","1"]})"),
       ErrorCode::kInvalidArgument},
      {"short pair", wrap(R"({"metric":{"a":"b"},"value":[1]})"), ErrorCode::kInvalidArgument},
      {"long pair", wrap(R"({"metric":{"a":"b"},"value":[1,"1","2"]})"),
       ErrorCode::kInvalidArgument},
      {"missing metric", wrap(R"({"value":[1,"1"]})"), ErrorCode::kInvalidArgument},
      {"series not object", wrap(R"("x")"), ErrorCode::kInvalidArgument},
      {"values in vector", wrap(R"({"metric":{},"values":[[1,"1"]]})"),
       ErrorCode::kInvalidArgument},
      {"deeply nested", wrap(R"({"metric":{},"value":[1,"1"],"junk":)" + deep + "}"),
       ErrorCode::kInvalidArgument},
      {"deeply nested only", deep, ErrorCode::kInvalidArgument},
      {"nul bytes", std::string("{\"status\"\0:1}", 13), ErrorCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    Result<SampleSet> r = ParsePrometheusResponse(c.body);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code, c.code) << c.name << ": " << r.error().message;
    EXPECT_FALSE(r.error().message.empty());
  }
}

TEST(ParsePrometheusResponse, EnforcesLimits) {
  ParseLimits limits;
  limits.max_labels_per_series = 2;
  limits.max_label_value_bytes = 4;
  const std::string many =
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1","b":"1","c":"1"},"value":[1,"1"]}]}})";
  const std::string long_value =
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"12345"},"value":[1,"1"]}]}})";
  for (const std::string& body : {many, long_value}) {
    Result<SampleSet> r = ParsePrometheusResponse(body, limits);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kPayloadTooLarge) << r.error().message;
  }
}

TEST(ParsePrometheusResponse, RandomMutationsNeverCrash) {
  const std::string base = ReadFixture("vector.json");
  ASSERT_FALSE(base.empty());
  Xorshift next;
  int ok = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string body = Mutated(base, i, next);
    Result<SampleSet> r = ParsePrometheusResponse(body);
    if (r) {
      ++ok;
    } else {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
  // Some flips land inside label text and still parse; most mutations must fail cleanly.
  EXPECT_LT(ok, 5000);
}

}  // namespace
}  // namespace aitelemetry::collect
