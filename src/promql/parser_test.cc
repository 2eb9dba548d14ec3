#include "promql/parser.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "promql/printer.h"

namespace aitelemetry::promql {
namespace {

std::string Canonical(const std::string& q) {
  auto e = Parse(q);
  if (!e) return "ERROR: " + e.error().message;
  return Print(**e);
}

TEST(PromqlParser, PrintsCanonicalText) {
  struct Case {
    std::string query;
    std::string printed;
  };
  const Case cases[] = {
      {"up", "up"},
      {"{__name__=~\"up|down\",job!=\"x\",}", "{__name__=~\"up|down\", job!=\"x\"}"},
      {"rate(x[300s])", "rate(x[5m])"},
      {"x[5m] offset 1h @ 100", "x[5m] @ 100 offset 1h"},
      {"x offset -5m", "x offset -5m"},
      {"x @ start()", "x @ start()"},
      {"sum(x) by (a,b)", "sum by (a, b) (x)"},
      {"sum without () (x)", "sum without () (x)"},
      {"topk(3, x)", "topk(3, x)"},
      {"a + b * c", "a + b * c"},
      {"a - (b - c) - d", "a - (b - c) - d"},
      {"(a ^ b) ^ c", "(a ^ b) ^ c"},
      {"-a * b", "-a * b"},
      {"- -1", "--1"},
      {"(a + b) * c", "(a + b) * c"},
      {"2 ^ 3 ^ 2", "2 ^ 3 ^ 2"},
      {"-2 ^ 2", "-2 ^ 2"},
      {"-(2 + 2)", "-(2 + 2)"},
      {"a or b and c", "a or b and c"},
      {"(a or b) and c", "(a or b) and c"},
      {"a > bool 1", "a > bool 1"},
      {"a / on(x) group_left(y) b", "a / on(x) group_left(y) b"},
      {"a * ignoring(x) group_right b", "a * ignoring(x) group_right() b"},
      {"a and on() b", "a and on() b"},
      {"max_over_time(rate(x[1m])[1h:5m] offset 1d)",
       "max_over_time(rate(x[1m])[1h:5m] offset 1d)"},
      {"x[1h:]", "x[1h:]"},
      {"label_replace(x, 'a', \"$1\", `b`, \"(.*)\")",
       "label_replace(x, \"a\", \"$1\", \"b\", \"(.*)\")"},
      {"x # a comment\n + 1", "x + 1"},
      {"x{on=\"1\", by=\"2\"}", "x{on=\"1\", by=\"2\"}"},
      {"sum by (on, by) (x)", "sum by (on, by) (x)"},
      {"day_of_week()", "day_of_week()"},
      {"round(x, 0.5)", "round(x, 0.5)"},
      {"0x1f + Inf + NaN", "0x1f + Inf + NaN"},
      {"x{a=\"\\n\\\"\\\\\x01\"}", "x{a=\"\\n\\\"\\\\\\x01\"}"},
  };
  for (const Case& c : cases) EXPECT_EQ(Canonical(c.query), c.printed) << c.query;
}

TEST(PromqlParser, RefusesWhatPrometheusRefusesAndWhatItDoesNotKnow) {
  for (const char* bad : {
           "",
           "{}",
           "x{a=b}",
           "x{a~\"b\"}",
           "x{\"a\"=\"b\"}",  // quoted label names are Prometheus 3
           "x{__name__=\"y\"}",
           "sum",
           "foo(x)",   // unknown function
           "info(x)",  // Prometheus 3 function: fails closed
           "rate(x)",
           "rate(x[5m], 1)",
           "x[5m][10m:1m]",
           "x offset 5m [5m]",
           "rate(x[5m]) offset 1h",
           "x offset 1h offset 2h",
           "x @ 1 @ 2",
           "x offset 0s",
           "x[0s]",
           "1 > 1",
           "1 and 1",
           "x + bool y",
           "1 + on() x",
           "x or on(a) group_left b",
           "(x[5m])",
           "sum(x[5m])",
           "topk(x)",
           "count_values(1, x)",
           "sum by (a) (x) by (b)",
           "x[5m:1m:1m]",
           "x y",
           "and",
           "offset",
           "x{a=\"b\"",
           "sum(x,)",
           "-\"a\"",
           "x @ Inf",
           "limitk(1, x)",
           "x[1h] + 1",
       }) {
    EXPECT_FALSE(Parse(bad)) << bad;
  }
}

TEST(PromqlParser, DeepNestingIsRefusedNotACrash) {
  std::string q(10000, '(');
  q += "1";
  q += std::string(10000, ')');
  EXPECT_FALSE(Parse(q));
  std::string minus(20000, '-');
  EXPECT_FALSE(Parse(minus + "1"));
  std::string sum;
  for (int i = 0; i < 200; ++i) sum += "sum(";
  sum += "x" + std::string(200, ')');
  EXPECT_FALSE(Parse(sum));
}

TEST(PromqlParser, TypesAreSet) {
  EXPECT_EQ((*Parse("x[5m]"))->type, ValueType::kMatrix);
  EXPECT_EQ((*Parse("rate(x[5m])"))->type, ValueType::kVector);
  EXPECT_EQ((*Parse("scalar(x) * 2"))->type, ValueType::kScalar);
  EXPECT_EQ((*Parse("\"s\""))->type, ValueType::kString);
  EXPECT_EQ((*Parse("x[5m:1m]"))->type, ValueType::kMatrix);
}

TEST(PromqlParser, SeriesSelectorsOnly) {
  EXPECT_TRUE(ParseSeriesSelector("{job=\"x\"}"));
  EXPECT_TRUE(ParseSeriesSelector("up"));
  for (const char* bad : {"up offset 5m", "up[5m]", "sum(up)", "up @ 1", "1"}) {
    EXPECT_FALSE(ParseSeriesSelector(bad)) << bad;
  }
}

// Every query of real dashboards parses, and printing is a fixed point: the printed text parses
// to a tree that prints the same.
TEST(PromqlParser, DashboardCorpusRoundTrips) {
  std::ifstream in(AITELEMETRY_SOURCE_DIR "/src/promql/testdata/dashboard_queries.txt");
  ASSERT_TRUE(in);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto e = Parse(line);
    ASSERT_TRUE(e) << line << ": " << e.error().message;
    std::string printed = Print(**e);
    auto again = Parse(printed);
    ASSERT_TRUE(again) << printed << ": " << again.error().message;
    EXPECT_EQ(Print(**again), printed) << line;
    ++count;
  }
  EXPECT_GE(count, 40);
}

}  // namespace
}  // namespace aitelemetry::promql
