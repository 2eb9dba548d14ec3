// The Solr-style parameter parser: fq syntax, sort, limits, hostile values, cursor marks.
#include "api/params.h"

#include <gtest/gtest.h>

#include "api/search_cursor.h"
#include "auth/base64url.h"
#include "core/time.h"

namespace aitelemetry::api {
namespace {

using model::FindModel;
using model::Value;
using store::Filter;

const model::Model& Gpu() { return *FindModel("gpu"); }

int64_t Nanos(const char* rfc3339) { return ToUnixNanos(*ParseRfc3339(rfc3339)); }

struct FqCase {
  const char* fq;
  Filter::Kind kind;
  std::vector<Value> values;  // kAnyOf
  Value lower, upper;         // kRange
  bool lower_inclusive = true, upper_inclusive = true;
  bool negate = false;
};

TEST(ParseFilterQuery, AcceptsTheSolrSyntaxTypedByTheRegistry) {
  const std::vector<FqCase> cases = {
      {"model_name:A100", Filter::Kind::kAnyOf, {std::string("A100")}},
      {"model_name:\"NVIDIA A100 \\\"SXM\\\"\"",
       Filter::Kind::kAnyOf,
       {std::string("NVIDIA A100 \"SXM\"")}},
      {"model_name:A\\ 100", Filter::Kind::kAnyOf, {std::string("A 100")}},
      {"model_name:\"\"", Filter::Kind::kAnyOf, {std::string("")}},
      {"model_name:(A100 OR H100 OR \"L40 S\")",
       Filter::Kind::kAnyOf,
       {std::string("A100"), std::string("H100"), std::string("L40 S")}},
      {"-model_name:A100", Filter::Kind::kAnyOf, {std::string("A100")}, {}, {}, true, true, true},
      {"gpu_index:3", Filter::Kind::kAnyOf, {int64_t{3}}},
      {"gpu_index:-3", Filter::Kind::kAnyOf, {int64_t{-3}}},
      {"power_watts:250.5", Filter::Kind::kAnyOf, {250.5}},
      {"mig_enabled:true", Filter::Kind::kAnyOf, {true}},
      {"mig_enabled:0", Filter::Kind::kAnyOf, {false}},
      {"power_watts:[100 TO 300]", Filter::Kind::kRange, {}, 100.0, 300.0, true, true},
      {"power_watts:{100 TO 300}", Filter::Kind::kRange, {}, 100.0, 300.0, false, false},
      {"power_watts:[100 TO 300}", Filter::Kind::kRange, {}, 100.0, 300.0, true, false},
      {"power_watts:[* TO 300]", Filter::Kind::kRange, {}, Value{}, 300.0, true, true},
      {"power_watts:{100 TO *]", Filter::Kind::kRange, {}, 100.0, Value{}, false, true},
      {"power_watts:[ 1e2  TO  3E2 ]", Filter::Kind::kRange, {}, 100.0, 300.0, true, true},
      {"last_seen_at:[2026-01-01T00:00:00Z TO 2026-01-02T00:00:00+01:00]",
       Filter::Kind::kRange,
       {},
       Nanos("2026-01-01T00:00:00Z"),
       Nanos("2026-01-01T23:00:00Z"),
       true,
       true},
      {"project:*", Filter::Kind::kNotNull},
      {"-project:*", Filter::Kind::kNotNull, {}, {}, {}, true, true, true},
      {"project:\\*", Filter::Kind::kAnyOf, {std::string("*")}},
      {"project:\"*\"", Filter::Kind::kAnyOf, {std::string("*")}},
      {"key:HUB-moc-CLUSTER-c1", Filter::Kind::kAnyOf, {std::string("HUB-moc-CLUSTER-c1")}},
      {"model_name:é漢字😀", Filter::Kind::kAnyOf, {std::string("é漢字😀")}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.fq);
    auto f = ParseFilterQuery(Gpu(), c.fq);
    ASSERT_TRUE(f) << f.error().ToString();
    EXPECT_EQ(f->kind, c.kind);
    EXPECT_EQ(f->negate, c.negate);
    if (c.kind == Filter::Kind::kAnyOf) {
      EXPECT_EQ(f->values, c.values);
    }
    if (c.kind == Filter::Kind::kRange) {
      EXPECT_EQ(f->lower, c.lower);
      EXPECT_EQ(f->upper, c.upper);
      EXPECT_EQ(f->lower_inclusive, c.lower_inclusive);
      EXPECT_EQ(f->upper_inclusive, c.upper_inclusive);
    }
  }
}

TEST(ParseFilterQuery, RefusesMalformedAndHostileFilters) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "expected field:value"},
      {"model_name", "expected field:value"},
      {":A100", "missing field name"},
      {"model_name:", "missing value"},
      {"nope:1", "unknown field \"nope\""},
      {"Model_Name:x", "lower case"},
      {"model_name';DROP TABLE gpu;--:x", "lower case"},
      {"memory_total_bytes OR 1=1:x", "lower case"},
      {"alert_json:x", "unknown field"},
      {"gpu_index:1 OR 1=1", "unexpected text"},
      {"gpu_index:1.5", "not a valid integer"},
      {"gpu_index:99999999999999999999", "not a valid integer"},
      {"power_watts:abc", "not a valid number"},
      {"power_watts:nan", "not a valid number"},
      {"power_watts:inf", "not a valid number"},
      {"mig_enabled:yes", "not a valid boolean"},
      {"last_seen_at:yesterday", "not a valid date-time"},
      {"last_seen_at:[2026-13-01T00:00:00Z TO *]", "not a valid date-time"},
      // Past 2262-04-11 a time would wrap around in nanoseconds (2600 became 2015).
      {"last_seen_at:[2600-01-01T00:00:00Z TO *]", "not a valid date-time"},
      {"last_seen_at:[* TO 2262-04-12T00:00:00Z]", "not a valid date-time"},
      {"last_seen_at:\"9999-12-31T23:59:59Z\"", "not a valid date-time"},
      {"power_watts:[1 TO 2", "ends with ] or }"},
      {"power_watts:[1 TO ]", "missing value"},
      {"power_watts:[1 2]", "[a TO b]"},
      {"power_watts:[1 to 2]", "[a TO b]"},
      {"power_watts:[1 TO 2]]", "unexpected text"},
      {"power_watts:[1 TO 2] OR x", "unexpected text"},
      {"power_watts:[a TO b]", "not a valid number"},
      {"model_name:(A100 OR )", "missing value"},
      {"model_name:(A100 AND H100)", "separated by OR"},
      {"model_name:(A100", "separated by OR"},
      {"model_name:(*)", "not allowed"},
      {"model_name:(A100) x", "unexpected text"},
      {"model_name:\"unterminated", "unterminated"},
      {"model_name:a\"b", "stray quote"},
      {"model_name:trailing\\", "dangling backslash"},
      {"container:x", ""},  // filterable: allowed (checked below as a success)
  };
  for (const auto& [fq, want] : cases) {
    SCOPED_TRACE(fq);
    auto f = ParseFilterQuery(Gpu(), fq);
    if (fq == "container:x") {
      EXPECT_TRUE(f);
      continue;
    }
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(f.error().message.find(want), std::string::npos) << f.error().message;
  }
  // Error messages never echo more than a short prefix of a huge value.
  std::string huge = "model_name:\"" + std::string(100000, 'x');
  auto f = ParseFilterQuery(Gpu(), huge);
  ASSERT_FALSE(f);
  EXPECT_LT(f.error().message.size(), 200u);
}

TEST(ParseSort, ReadsCommaSeparatedKeysAndRefusesBadOnes) {
  std::vector<store::SortKey> keys;
  ASSERT_TRUE(ParseSort(Gpu(), "power_watts desc, model_name asc,node", keys));
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].field, "power_watts");
  EXPECT_TRUE(keys[0].descending);
  EXPECT_FALSE(keys[1].descending);
  EXPECT_FALSE(keys[2].descending);
  for (const char* bad :
       {"nope asc", "power_watts sideways", "power_watts desc,power_watts asc", "container asc",
        ",", "power_watts desc;DROP TABLE gpu", "a,b,c,d,e,f,g,h,i"}) {
    SCOPED_TRACE(bad);
    std::vector<store::SortKey> k;
    auto st = ParseSort(Gpu(), bad, k);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(ParseSearchParams, DefaultsAndLimits) {
  auto p = ParseSearchParams(Gpu(), {}, "");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->spec.rows, kDefaultRows);
  EXPECT_EQ(p->spec.start, 0);
  EXPECT_EQ(p->format, Format::kJson);
  auto full = ParseSearchParams(Gpu(),
                                {{"q", "a100"},
                                 {"fq", "model_name:A100"},
                                 {"fq", "power_watts:[100 TO *]"},
                                 {"sort", "power_watts desc"},
                                 {"sort", "node asc"},
                                 {"start", "10"},
                                 {"rows", "1000"},
                                 {"fl", "key,power_watts,key"},
                                 {"facet.field", "model_name"},
                                 {"facet.field", "state"},
                                 {"stats.field", "power_watts"},
                                 {"facet.limit", "5"},
                                 {"format", "csv"}},
                                "");
  ASSERT_TRUE(full) << full.error().ToString();
  EXPECT_EQ(full->spec.text, "a100");
  EXPECT_EQ(full->spec.filters.size(), 2u);
  EXPECT_EQ(full->spec.sort.size(), 2u);
  EXPECT_EQ(full->spec.start, 10);
  EXPECT_EQ(full->spec.rows, 1000);
  EXPECT_EQ(full->spec.fields, (std::vector<std::string>{"key", "power_watts"}));
  EXPECT_EQ(full->spec.facets, (std::vector<std::string>{"model_name", "state"}));
  EXPECT_EQ(full->spec.stats, (std::vector<std::string>{"power_watts"}));
  EXPECT_EQ(full->spec.facet_limit, 5);
  EXPECT_EQ(full->format, Format::kCsv);
  auto star = ParseSearchParams(Gpu(), {{"q", "*:*"}}, "");
  ASSERT_TRUE(star);
  EXPECT_EQ(star->spec.text, "");
  auto csv = ParseSearchParams(Gpu(), {}, "text/csv");
  ASSERT_TRUE(csv);
  EXPECT_EQ(csv->format, Format::kCsv);
  auto both = ParseSearchParams(Gpu(), {}, "application/json, text/csv;q=0.5");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->format, Format::kJson);
}

TEST(ParseSearchParams, RefusesEveryMalformedParameterWithItsName) {
  const std::vector<std::pair<QueryPairs, std::string>> cases = {
      {{{"rows", "1001"}}, "rows: at most 1000"},
      {{{"rows", "-1"}}, "rows: must not be negative"},
      {{{"rows", "ten"}}, "rows:"},
      {{{"rows", "1e3"}}, "rows:"},
      {{{"rows", ""}}, "rows:"},
      {{{"rows", "+5"}}, "rows:"},
      {{{"rows", "99999999999999999999"}}, "rows:"},
      {{{"start", "-5"}}, "start: must not be negative"},
      {{{"rows", "1"}, {"rows", "2"}}, "rows: given more than once"},
      {{{"start", "1"}, {"start", "1"}}, "start: given more than once"},
      {{{"q", "a"}, {"q", "b"}}, "q: given more than once"},
      {{{"fl", "key"}, {"fl", "key"}}, "fl: given more than once"},
      {{{"cursorMark", "*"}, {"cursorMark", "*"}}, "cursorMark: given more than once"},
      {{{"fl", "key,nope"}}, "fl: unknown field \"nope\""},
      {{{"fl", "key,,uuid"}}, "fl: empty"},
      {{{"sort", "nope desc"}}, "sort: unknown field \"nope\""},
      {{{"facet.field", "nope"}}, "facet.field: unknown field \"nope\""},
      {{{"facet.field", "power_watts"}}, "not facetable"},
      {{{"stats.field", "model_name"}}, "not numeric"},
      {{{"stats.field", "nope"}}, "stats.field: unknown field"},
      {{{"facet.limit", "0"}}, "facet.limit"},
      {{{"facet.limit", "100000"}}, "facet.limit"},
      {{{"facet", "maybe"}}, "facet: expected"},
      {{{"format", "xml"}}, "format:"},
      {{{"wt", "xml"}}, "format:"},
      {{{"rowz", "5"}}, "unknown parameter \"rowz\""},
      {{{"q", std::string(5000, 'a')}}, "q: longer than"},
      {{{"q", "\xff\xfe"}}, "q: not valid UTF-8"},
      {{{"q", "\xc0\xaf"}}, "not valid UTF-8"},
      {{{"q", "\xed\xa0\x80"}}, "not valid UTF-8"},
      {{{"q", "\xf4\x90\x80\x80"}}, "not valid UTF-8"},
      {{{"q", "abc\xe2\x82"}}, "not valid UTF-8"},
      {{{"\xff", "1"}}, "not UTF-8"},
      {{{"cursorMark", ""}}, "cursorMark: empty"},
      {{{"cursorMark", "*"}, {"start", "5"}}, "cannot be combined with start"},
      {{{"cursorMark", "junk!"}}, "cursorMark:"},
  };
  for (const auto& [query, want] : cases) {
    SCOPED_TRACE(want);
    auto p = ParseSearchParams(Gpu(), query, "");
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(p.error().message.find(want), std::string::npos) << p.error().message;
  }
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 65; ++i) many.emplace_back("fq", "gpu_index:1");
  EXPECT_FALSE(ParseSearchParams(Gpu(), many, ""));
}

TEST(PathTail, ReadsTheExactRestOfTheRawPath) {
  struct Case {
    const char* target;
    size_t segments;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {"/api/allocation/a%2Fb%2F%2Fc@t?fl=key", 2, "a/b//c@t"},
      {"/api/allocation/a/b//c@t", 2, "a/b//c@t"},
      {"/api/gpu/HUB-moc-GPU-x", 2, "HUB-moc-GPU-x"},
      {"/api/gpu/a%20b", 2, "a b"},
      {"/ngsi-ld/v1/entities/urn:ngsi-ld:Allocation:a%2Fb", 3, "urn:ngsi-ld:Allocation:a/b"},
      {"/api/gpu/", 2, std::nullopt},
      {"/api/gpu", 2, std::nullopt},
      {"/api//gpu/x", 2, std::nullopt},  // not plain segments: the router's parameter is used
      {"api/gpu/x", 2, std::nullopt},
      {"/api/gpu/%zz", 2, std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(PathTail(c.target, c.segments), c.want) << c.target;
  }
}

TEST(IsValidUtf8, AcceptsUtf8AndRefusesTheRest) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("é 漢字 😀 \xf4\x8f\xbf\xbf"));
  for (std::string bad : {"\x80", "\xc3", "\xe6\xbc", "\xf0\x9f\x98", "\xc1\xbf", "\xe0\x80\xaf",
                          "\xf0\x80\x80\xaf", "\xed\xbf\xbf", "\xf8\x88\x80\x80\x80", "\xfe"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << ::testing::PrintToString(bad);
  }
}

TEST(Cursor, RoundTripsAndRefusesJunk) {
  const auto& m = Gpu();
  std::vector<store::SortKey> sort = {{"power_watts", true}, {"model_name", false}};
  model::Record r(m);
  r.Set("key", std::string("HUB-a-CLUSTER-b-NODE-c-GPU-d"));
  r.Set("power_watts", 250.125);
  std::string mark = EncodeCursor(m, sort, r);
  auto back = DecodeCursor(m, sort, mark);
  ASSERT_TRUE(back) << back.error().ToString();
  // A null model_name travels as the sort sentinel "".
  EXPECT_EQ(*back, (std::vector<Value>{250.125, std::string(), std::string(r.Key())}));
  for (char c : mark) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << mark;
  }
  // Another sort, junk, valid base64 of other JSON, wrong types or counts: all refused.
  EXPECT_FALSE(DecodeCursor(m, {{"power_watts", false}}, mark));
  EXPECT_FALSE(DecodeCursor(m, {}, mark));
  const std::vector<std::string> junk = {
      "x",
      "AAAA",
      "!!!!",
      mark + "=",
      mark.substr(0, mark.size() - 2),
      auth::Base64UrlEncode("[1,2,3]"),
      auth::Base64UrlEncode(
          "{\"v\":2,\"s\":\"power_watts desc,model_name asc,\",\"a\":[1,\"\",\"k\"]}"),
      auth::Base64UrlEncode("{\"v\":1,\"s\":\"power_watts desc,model_name asc,\",\"a\":[1,\"\"]}"),
      auth::Base64UrlEncode(
          "{\"v\":1,\"s\":\"power_watts desc,model_name asc,\",\"a\":[\"1\",\"\",\"k\"]}"),
      auth::Base64UrlEncode(
          "{\"v\":1,\"s\":\"power_watts desc,model_name asc,\",\"a\":[1,2,\"k\"]}"),
      auth::Base64UrlEncode(
          "{\"v\":1,\"s\":\"power_watts desc,model_name asc,\",\"a\":[1,\"\",\"k\\u0000\"]}"),
      auth::Base64UrlEncode(
          "{\"v\":1,\"s\":\"power_watts desc,model_name asc,\",\"a\":[1,\"\",\"k\"],\"x\":1}"),
      auth::Base64UrlEncode("\xff\xfe"),
      std::string(5000, 'A'),
  };
  for (const auto& j : junk) {
    SCOPED_TRACE(j.substr(0, 40));
    auto d = DecodeCursor(m, sort, j);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(d.error().message.starts_with("cursorMark: "));
  }
  // Integer sort fields refuse fractions and values past int64.
  std::vector<store::SortKey> by_index = {{"gpu_index", false}};
  EXPECT_FALSE(DecodeCursor(
      m, by_index, auth::Base64UrlEncode("{\"v\":1,\"s\":\"gpu_index asc,\",\"a\":[1.5,\"k\"]}")));
  EXPECT_FALSE(
      DecodeCursor(m, by_index,
                   auth::Base64UrlEncode(
                       "{\"v\":1,\"s\":\"gpu_index asc,\",\"a\":[18446744073709551615,\"k\"]}")));
  EXPECT_TRUE(DecodeCursor(
      m, by_index, auth::Base64UrlEncode("{\"v\":1,\"s\":\"gpu_index asc,\",\"a\":[-3,\"k\"]}")));
}

}  // namespace
}  // namespace aitelemetry::api
