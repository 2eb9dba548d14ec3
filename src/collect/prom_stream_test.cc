#include "collect/prom_stream.h"

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "collect/prom_json.h"
#include "collect/sample_set_sink.h"
#include "collect/test_util.h"

namespace aitelemetry::collect {
namespace {

using testing::Mutated;
using testing::ReadFixture;
using testing::Xorshift;

std::string Wrap(const std::string& result) {
  return R"({"status":"success","data":{"resultType":"vector","result":[)" + result + "]}}";
}

// A sample with its strings resolved, for comparing sets built by different parsers.
struct Flat {
  std::string metric;
  std::vector<std::pair<std::string, std::string>> labels;
  double value;
  int64_t timestamp_ms;
  bool operator==(const Flat& o) const {
    bool same_value = value == o.value || (std::isnan(value) && std::isnan(o.value));
    return same_value && metric == o.metric && labels == o.labels && timestamp_ms == o.timestamp_ms;
  }
};

std::vector<Flat> Flatten(const SampleSet& set) {
  std::vector<Flat> out;
  for (const Sample& s : set.samples()) {
    Flat f{std::string(set.Metric(s)), {}, s.value, s.timestamp_ms};
    for (const LabelPair& p : set.Labels(s)) {
      f.labels.emplace_back(set.String(p.name), set.String(p.value));
    }
    out.push_back(std::move(f));
  }
  return out;
}

// Expects `got` to hold the same answer as `want`.
void ExpectSameSet(const SampleSet& want, const SampleSet& got, const std::string& what) {
  EXPECT_EQ(want.result_type(), got.result_type()) << what;
  EXPECT_EQ(want.warnings(), got.warnings()) << what;
  EXPECT_TRUE(Flatten(want) == Flatten(got)) << what;
}

// Feeds `body` cut at the given offsets.
Result<SampleSet> ParseCut(std::string_view body, const std::vector<size_t>& cuts,
                           const ParseLimits& limits = {}) {
  PromStreamParser parser(limits);
  SampleSetSink sink;
  parser.Begin(&sink);
  size_t at = 0;
  for (size_t cut : cuts) {
    if (Status st = parser.Feed(body.substr(at, cut - at)); !st) return Fail(st.error());
    at = cut;
  }
  if (Status st = parser.Feed(body.substr(at)); !st) return Fail(st.error());
  if (Status st = parser.Finish(); !st) return Fail(st.error());
  return sink.Take(parser);
}

TEST(PromStreamParser, FixturesMatchTheDomParserForEveryPieceSize) {
  const std::string bodies[] = {
      ReadFixture("vector.json"),
      ReadFixture("matrix.json"),
      R"({"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"42"]}})",
      R"({"data":{"result":[],"resultType":"matrix"},"status":"success","infos":["x"]})",
  };
  for (const std::string& body : bodies) {
    ASSERT_FALSE(body.empty());
    Result<SampleSet> want = ParsePrometheusResponse(body);
    ASSERT_TRUE(want) << want.error().message;
    for (size_t piece = 1; piece <= body.size(); ++piece) {
      Result<SampleSet> got = ParsePrometheusStream(body, {}, piece);
      ASSERT_TRUE(got) << "piece " << piece << ": " << got.error().message;
      ExpectSameSet(*want, *got, "piece " + std::to_string(piece));
    }
  }
}

TEST(PromStreamParser, EveryCutOfAnAnswerGivesTheSameSeries) {
  const std::string body = ReadFixture("vector.json");
  Result<SampleSet> want = ParsePrometheusResponse(body);
  ASSERT_TRUE(want);
  for (size_t a = 0; a <= body.size(); ++a) {
    Result<SampleSet> got = ParseCut(body, {a});
    ASSERT_TRUE(got) << a << ": " << got.error().message;
    ExpectSameSet(*want, *got, "cut at " + std::to_string(a));
  }
  for (size_t a = 0; a <= body.size(); a += 7) {
    for (size_t b = a; b <= body.size(); b += 11) {
      Result<SampleSet> got = ParseCut(body, {a, b});
      ASSERT_TRUE(got) << a << "," << b << ": " << got.error().message;
      ASSERT_EQ(got->size(), want->size());
    }
  }
  Result<SampleSet> got = ParseCut(body, {1, 2, 3, 500, 501, 900});
  ASSERT_TRUE(got);
  ExpectSameSet(*want, *got, "mixed cuts");
}

TEST(PromStreamParser, EveryTruncationFails) {
  for (const std::string& body : {ReadFixture("vector.json"), ReadFixture("matrix.json")}) {
    size_t trimmed = body.find_last_not_of(" \n\r\t") + 1;
    for (size_t n = 0; n < trimmed; ++n) {
      for (size_t piece : {size_t{0}, size_t{1}, size_t{64}}) {
        Result<SampleSet> r = ParsePrometheusStream(body.substr(0, n), {}, piece);
        ASSERT_FALSE(r) << "prefix " << n;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;
        EXPECT_TRUE(r.error().message.starts_with("malformed Prometheus answer"))
            << r.error().message;
      }
    }
  }
}

TEST(PromStreamParser, AnyKeyOrderAndWhitespace) {
  const std::string pretty =
      "\r\n\t{ \"warnings\" : [ \"w1\" , \"w2\" ] ,\n \"data\" :\t{ \"result\" : [ { \"value\" : [ "
      "1700000000.25 , \"7\" ] , \"metric\" : { \"job\" : \"a\" , \"__name__\" : \"up\" } } , "
      "{\"metric\":{},\"value\":[1700000000,\"8\"]} ] , \"stats\" : { \"x\" : [ 1 , true , null , "
      "{ } , [ ] , -0.5e-3 , \"s\" ] } , \"resultType\" : \"vector\" } , \"status\" : \"success\" "
      ", \"infos\" : [ ] } \n ";
  for (size_t piece : {size_t{0}, size_t{1}, size_t{2}, size_t{13}}) {
    Result<SampleSet> r = ParsePrometheusStream(pretty, {}, piece);
    ASSERT_TRUE(r) << piece << ": " << r.error().message;
    ASSERT_EQ(r->size(), 2u);
    const Sample& s = r->samples()[0];
    EXPECT_EQ(r->Metric(s), "up");
    EXPECT_EQ(r->Label(s, "job"), "a");
    EXPECT_EQ(s.value, 7);
    EXPECT_EQ(s.timestamp_ms, 1700000000250);
    EXPECT_EQ(r->Metric(r->samples()[1]), "");
    EXPECT_EQ(r->warnings(), (std::vector<std::string>{"w1", "w2"}));
  }
  // The scalar and matrix forms with resultType after result.
  Result<SampleSet> scalar = ParsePrometheusStream(
      R"({"data":{"result":[1,"2"],"resultType":"scalar"},"status":"success"})");
  ASSERT_TRUE(scalar) << scalar.error().message;
  EXPECT_EQ(scalar->result_type(), ResultType::kScalar);
  EXPECT_EQ(scalar->samples()[0].value, 2);
  Result<SampleSet> matrix = ParsePrometheusStream(
      R"({"data":{"result":[{"metric":{},"values":[[1,"2"],[2,"3"]]}],"resultType":"matrix"},"status":"success"})");
  ASSERT_TRUE(matrix) << matrix.error().message;
  EXPECT_EQ(matrix->result_type(), ResultType::kMatrix);
  EXPECT_EQ(matrix->size(), 2u);
  // ... and a resultType written late that contradicts the result.
  for (
      const char* body : {
          R"({"data":{"result":[1,"2"],"resultType":"vector"},"status":"success"})",
          R"({"data":{"result":[],"resultType":"scalar"},"status":"success"})",
          R"({"data":{"result":[{"metric":{},"values":[[1,"2"]]}],"resultType":"vector"},"status":"success"})",
          R"({"data":{"result":[{"metric":{},"value":[1,"2"]}],"resultType":"matrix"},"status":"success"})",
      }) {
    Result<SampleSet> r = ParsePrometheusStream(body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << body;
  }
}

TEST(PromStreamParser, ErrorAnswersMapErrorType) {
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
      {R"({"error":"late","errorType":"timeout","status":"error"})", ErrorCode::kUnavailable,
       "prometheus timeout: late"},
      {R"({"status":"error","data":{"resultType":"string","junk":[{}]},"error":"x","errorType":"canceled"})",
       ErrorCode::kUnavailable, "prometheus canceled: x"},
  };
  for (const Case& c : cases) {
    for (size_t piece : {size_t{0}, size_t{1}}) {
      Result<SampleSet> r = ParsePrometheusStream(c.body, {}, piece);
      ASSERT_FALSE(r) << c.body;
      EXPECT_EQ(r.error().code, c.code) << r.error().message;
      EXPECT_NE(r.error().message.find(c.want), std::string::npos) << r.error().message;
    }
  }
}

TEST(PromStreamParser, RejectsHostileInput) {
  std::string deep(5000, '[');
  const std::string ok_series = R"({"metric":{"a":"b"},"value":[1,"1"]})";
  struct Case {
    std::string name;
    std::string body;
    ErrorCode code;
  };
  const Case cases[] = {
      {"empty", "", ErrorCode::kInvalidArgument},
      {"only whitespace", " \n", ErrorCode::kInvalidArgument},
      {"html", ReadFixture("html_502.html"), ErrorCode::kInvalidArgument},
      {"truncated", Wrap(ok_series).substr(0, 60), ErrorCode::kInvalidArgument},
      {"trailing garbage", Wrap(ok_series) + "x", ErrorCode::kInvalidArgument},
      {"a second document", Wrap(ok_series) + "{}", ErrorCode::kInvalidArgument},
      {"not an object", "[1,2]", ErrorCode::kInvalidArgument},
      {"no status", R"({"data":{"resultType":"vector","result":[]}})", ErrorCode::kInvalidArgument},
      {"status not string", R"({"status":1,"data":{"resultType":"vector","result":[]}})",
       ErrorCode::kInvalidArgument},
      {"unknown status", R"({"status":"maybe"})", ErrorCode::kInvalidArgument},
      {"no data", R"({"status":"success"})", ErrorCode::kInvalidArgument},
      {"data not object", R"({"status":"success","data":[]})", ErrorCode::kInvalidArgument},
      {"no resultType", R"({"status":"success","data":{"result":[]}})",
       ErrorCode::kInvalidArgument},
      {"no result", R"({"status":"success","data":{"resultType":"vector"}})",
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
      {"duplicate warnings", R"({"status":"success","warnings":[],"warnings":[]})",
       ErrorCode::kInvalidArgument},
      {"duplicate resultType",
       R"({"status":"success","data":{"resultType":"vector","resultType":"vector","result":[]}})",
       ErrorCode::kInvalidArgument},
      {"duplicate result",
       R"({"status":"success","data":{"resultType":"vector","result":[],"result":[]}})",
       ErrorCode::kInvalidArgument},
      {"duplicate label", Wrap(R"({"metric":{"a":"b","a":"c"},"value":[1,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"duplicate escaped label", Wrap(R"({"metric":{"a":"b","\u0061":"c"},"value":[1,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"duplicate __name__", Wrap(R"({"metric":{"__name__":"b","__name__":"c"},"value":[1,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"duplicate metric", Wrap(R"({"metric":{},"metric":{},"value":[1,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"duplicate value", Wrap(R"({"metric":{},"value":[1,"1"],"value":[1,"2"]})"),
       ErrorCode::kInvalidArgument},
      {"non-string value", Wrap(R"({"metric":{"a":"b"},"value":[1,1]})"),
       ErrorCode::kInvalidArgument},
      {"non-string label", Wrap(R"({"metric":{"a":1},"value":[1,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"metric not object", Wrap(R"({"metric":[],"value":[1,"1"]})"), ErrorCode::kInvalidArgument},
      {"NaN literal", Wrap(R"({"metric":{"a":"b"},"value":[1,NaN]})"), ErrorCode::kInvalidArgument},
      {"bad float string", Wrap(R"({"metric":{"a":"b"},"value":[1,"fast"]})"),
       ErrorCode::kInvalidArgument},
      {"huge number", Wrap(R"({"metric":{"a":"b"},"value":[1e999,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"huge skipped number", Wrap(R"({"metric":{"a":"b"},"value":[1,"1"],"x":1e999})"),
       ErrorCode::kInvalidArgument},
      {"huge skipped integer", Wrap(R"({"metric":{},"value":[1,"1"],"x":18446744073709551616})"),
       ErrorCode::kInvalidArgument},
      {"huge timestamp", Wrap(R"({"metric":{"a":"b"},"value":[1e300,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"huge value string", Wrap(R"({"metric":{"a":"b"},"value":[1,"1e999"]})"),
       ErrorCode::kInvalidArgument},
      {"string timestamp", Wrap(R"({"metric":{"a":"b"},"value":["1","1"]})"),
       ErrorCode::kInvalidArgument},
      {"leading zero", Wrap(R"({"metric":{},"value":[01,"1"]})"), ErrorCode::kInvalidArgument},
      {"bare fraction", Wrap(R"({"metric":{},"value":[.5,"1"]})"), ErrorCode::kInvalidArgument},
      {"short pair", Wrap(R"({"metric":{"a":"b"},"value":[1]})"), ErrorCode::kInvalidArgument},
      {"empty pair", Wrap(R"({"metric":{"a":"b"},"value":[]})"), ErrorCode::kInvalidArgument},
      {"long pair", Wrap(R"({"metric":{"a":"b"},"value":[1,"1","2"]})"),
       ErrorCode::kInvalidArgument},
      {"missing metric", Wrap(R"({"value":[1,"1"]})"), ErrorCode::kInvalidArgument},
      {"series not object", Wrap(R"("x")"), ErrorCode::kInvalidArgument},
      {"trailing comma", Wrap(ok_series + ","), ErrorCode::kInvalidArgument},
      {"trailing comma in metric", Wrap(R"({"metric":{"a":"b",},"value":[1,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"values in vector", Wrap(R"({"metric":{},"values":[[1,"1"]]})"),
       ErrorCode::kInvalidArgument},
      {"deeply nested", Wrap(R"({"metric":{},"value":[1,"1"],"junk":)" + deep + "}"),
       ErrorCode::kInvalidArgument},
      {"deeply nested at top", R"({"status":"success","x":)" + deep, ErrorCode::kInvalidArgument},
      {"deeply nested only", deep, ErrorCode::kInvalidArgument},
      {"nul bytes", std::string("{\"status\"\0:1}", 13), ErrorCode::kInvalidArgument},
      {"bad escape", Wrap(R"({"metric":{"a":"\x"},"value":[1,"1"]})"), ErrorCode::kInvalidArgument},
      {"bad unicode escape", Wrap(R"({"metric":{"a":"\u12G4"},"value":[1,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"lone high surrogate", Wrap(R"({"metric":{"a":"\uD800"},"value":[1,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"high surrogate then letter", Wrap(R"({"metric":{"a":"\uD800\u0041"},"value":[1,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"lone low surrogate", Wrap(R"({"metric":{"a":"\uDC00"},"value":[1,"1"]})"),
       ErrorCode::kInvalidArgument},
      {"raw tab in string", Wrap("{\"metric\":{\"a\":\"\t\"},\"value\":[1,\"1\"]}"),
       ErrorCode::kInvalidArgument},
      {"overlong UTF-8", Wrap("{\"metric\":{\"a\":\"\xc0\xaf\"},\"value\":[1,\"1\"]}"),
       ErrorCode::kInvalidArgument},
      {"UTF-8 surrogate", Wrap("{\"metric\":{\"a\":\"\xed\xa0\x80\"},\"value\":[1,\"1\"]}"),
       ErrorCode::kInvalidArgument},
      {"UTF-8 past U+10FFFF", Wrap("{\"metric\":{\"a\":\"\xf4\x90\x80\x80\"},\"value\":[1,\"1\"]}"),
       ErrorCode::kInvalidArgument},
      {"truncated UTF-8", Wrap("{\"metric\":{\"a\":\"\xe2\x82\"},\"value\":[1,\"1\"]}"),
       ErrorCode::kInvalidArgument},
      {"invalid UTF-8 in a skipped key", Wrap("{\"metric\":{},\"value\":[1,\"1\"],\"\xff\":1}"),
       ErrorCode::kInvalidArgument},
      {"byte order mark", "\xef\xbb\xbf" + Wrap(ok_series), ErrorCode::kInvalidArgument},
      {"bad literal", Wrap(R"({"metric":{},"value":[1,"1"],"x":tru})"),
       ErrorCode::kInvalidArgument},
      {"vertical tab", Wrap(ok_series) + "\v", ErrorCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    for (size_t piece : {size_t{0}, size_t{1}, size_t{7}}) {
      Result<SampleSet> r = ParsePrometheusStream(c.body, {}, piece);
      ASSERT_FALSE(r) << c.name << " piece " << piece;
      EXPECT_EQ(r.error().code, c.code) << c.name << ": " << r.error().message;
      EXPECT_FALSE(r.error().message.empty());
      // The whole-body parser agrees.
      EXPECT_FALSE(ParsePrometheusResponse(c.body)) << c.name;
    }
  }
}

TEST(PromStreamParser, DecodesEscapesAndUtf8) {
  const std::string body = Wrap(
      R"({"metric":{"\u005f_name__":"m\u00e9tric","k\"ey":"\"\\\/\b\f\n\r\t","emoji":"\ud83d\ude00 \uD83D\uDE00","raw":"caf)"
      "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"
      R"(","nul":"a\u0000b","del":")"
      "\x7f"
      R"("},"value":[1,"\u0031\u0032"]})");
  Result<SampleSet> want = ParsePrometheusResponse(body);
  ASSERT_TRUE(want) << want.error().message;
  for (size_t piece : {size_t{0}, size_t{1}, size_t{3}}) {
    Result<SampleSet> r = ParsePrometheusStream(body, {}, piece);
    ASSERT_TRUE(r) << r.error().message;
    ExpectSameSet(*want, *r, "escapes");
    const Sample& s = r->samples()[0];
    EXPECT_EQ(r->Metric(s), "m\xc3\xa9tric");
    EXPECT_EQ(r->Label(s, "k\"ey"), "\"\\/\b\f\n\r\t");
    EXPECT_EQ(r->Label(s, "emoji"), "\xf0\x9f\x98\x80 \xf0\x9f\x98\x80");
    EXPECT_EQ(r->Label(s, "nul"), std::string("a\0b", 3));
    EXPECT_EQ(s.value, 12);
  }
}

TEST(PromStreamParser, EnforcesLimits) {
  ParseLimits limits;
  limits.max_labels_per_series = 2;
  limits.max_label_value_bytes = 4;
  const std::string many = Wrap(R"({"metric":{"a":"1","b":"1","c":"1"},"value":[1,"1"]})");
  const std::string long_value = Wrap(R"({"metric":{"a":"12345"},"value":[1,"1"]})");
  const std::string long_escaped = Wrap(R"({"metric":{"a":"\u00e9\u00e9\u00e9"},"value":[1,"1"]})");
  for (const std::string& body : {many, long_value, long_escaped}) {
    Result<SampleSet> r = ParsePrometheusStream(body, limits, 1);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().code, ErrorCode::kPayloadTooLarge) << r.error().message;
  }
  const std::string at_limits =
      Wrap(R"({"metric":{"__name__":"1234","a":"1234","b":"\u00e9\u00e9"},"value":[1,"1"]})");
  EXPECT_TRUE(ParsePrometheusStream(at_limits, limits, 1));

  // The defaults: 64 labels of 4096 bytes pass; one more label or byte does not.
  auto series = [](int labels, size_t bytes) {
    std::string metric;
    for (int i = 0; i < labels; ++i) {
      metric += (i ? "," : "") + fmt::format(R"("label_{}":"{}")", i, std::string(bytes, 'v'));
    }
    return Wrap(R"({"metric":{)" + metric + R"(},"value":[1,"1"]})");
  };
  Result<SampleSet> big = ParsePrometheusStream(series(64, 4096), {}, 1000);
  ASSERT_TRUE(big) << big.error().message;
  EXPECT_EQ(big->Labels(big->samples()[0]).size(), 64u);
  EXPECT_EQ(ParsePrometheusStream(series(65, 1)).error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(ParsePrometheusStream(series(1, 4097)).error().code, ErrorCode::kPayloadTooLarge);
}

TEST(PromStreamParser, RandomMutationsAgreeWithTheDomParser) {
  const std::string base = ReadFixture("vector.json");
  ASSERT_FALSE(base.empty());
  Xorshift next;
  int ok = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string body = Mutated(base, i, next);
    Result<SampleSet> want = ParsePrometheusResponse(body);
    Result<SampleSet> got = ParsePrometheusStream(body, {}, 1 + next() % 100);
    ASSERT_EQ(bool(want), bool(got))
        << "mutation " << i << ": dom " << (want ? "ok" : want.error().message) << ", stream "
        << (got ? "ok" : got.error().message) << "\n"
        << body;
    if (got) {
      ++ok;
      ExpectSameSet(*want, *got, "mutation " + std::to_string(i));
    } else {
      EXPECT_EQ(want.error().code, got.error().code) << got.error().message;
      EXPECT_FALSE(got.error().message.empty());
    }
  }
  EXPECT_LT(ok, 5000);
}

// Counts series; fails on request.
class CountingSink : public SeriesSink {
 public:
  Status OnSeries(const SeriesView& s) override {
    ++series;
    points += s.points.size();
    if (fail_at != 0 && series == fail_at) return Fail(ErrorCode::kInternal, "sink says no");
    return Ok();
  }
  void Restart() override { ++restarts; }
  size_t series = 0, points = 0, fail_at = 0;
  int restarts = 0;
};

TEST(PromStreamParser, SinkErrorsStopTheParseAndStick) {
  CountingSink sink;
  sink.fail_at = 2;
  PromStreamParser parser;
  parser.Begin(&sink);
  Status st = parser.Feed(ReadFixture("vector.json"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInternal);
  EXPECT_EQ(st.error().message, "sink says no");
  EXPECT_EQ(sink.series, 2u);
  EXPECT_EQ(parser.Feed("more").error().message, "sink says no");
  EXPECT_EQ(parser.Finish().error().message, "sink says no");
  EXPECT_EQ(sink.restarts, 0);  // the parser never restarts a sink: its caller does

  // Begin() starts afresh.
  CountingSink fine;
  parser.Begin(&fine);
  ASSERT_TRUE(parser.Feed(ReadFixture("vector.json")));
  ASSERT_TRUE(parser.Finish());
  EXPECT_EQ(fine.series, 5u);
  EXPECT_EQ(parser.series(), 5u);
}

TEST(PromStreamParser, HoldsOnlyTheSeriesAPieceEndsIn) {
  // 20,000 series (about 4 MB) fed in 64 KiB pieces: the carry stays near one series.
  std::string result;
  for (int i = 0; i < 20000; ++i) {
    result += fmt::format(
        R"({}{{"metric":{{"__name__":"DCGM_FI_DEV_GPU_TEMP","UUID":"GPU-{:08d}","Hostname":"node-{}","note":"caf\u00e9"}},"value":[1700000000.000,"{}"]}})",
        i ? "," : "", i, i / 8, i % 90);
  }
  const std::string body = Wrap(result);
  CountingSink sink;
  PromStreamParser parser;
  parser.Begin(&sink);
  for (size_t at = 0; at < body.size(); at += 65536) {
    ASSERT_TRUE(parser.Feed(std::string_view(body).substr(at, 65536)));
  }
  ASSERT_TRUE(parser.Finish());
  EXPECT_EQ(sink.series, 20000u);
  EXPECT_LT(parser.carry_capacity(), 4096u);

  // One byte at a time stays linear: the same body in well under a second.
  CountingSink bytes;
  parser.Begin(&bytes);
  auto t = std::chrono::steady_clock::now();
  for (char c : body) ASSERT_TRUE(parser.Feed(std::string_view(&c, 1)));
  ASSERT_TRUE(parser.Finish());
  EXPECT_EQ(bytes.series, 20000u);
  EXPECT_LT(std::chrono::steady_clock::now() - t, std::chrono::seconds(5));

  // A single huge skipped value (1 MB) fed byte by byte also stays linear.
  const std::string huge = R"({"status":"success","stats":")" + std::string(1 << 20, 'x') +
                           R"(","data":{"resultType":"vector","result":[]}})";
  parser.Begin(&bytes);
  t = std::chrono::steady_clock::now();
  for (char c : huge) ASSERT_TRUE(parser.Feed(std::string_view(&c, 1)));
  ASSERT_TRUE(parser.Finish());
  EXPECT_LT(std::chrono::steady_clock::now() - t, std::chrono::seconds(5));
}

}  // namespace
}  // namespace aitelemetry::collect
