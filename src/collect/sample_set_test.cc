#include "collect/sample_set.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace aitelemetry::collect {
namespace {

TEST(ParsePromFloat, Table) {
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    std::string text;
    std::optional<double> want;
  };
  const Case cases[] = {
      {"0", 0.0},
      {"87", 87.0},
      {"-1.5", -1.5},
      {"+2", 2.0},
      {"4.5e-01", 0.45},
      {"1E3", 1000.0},
      {".5", 0.5},
      {"+Inf", inf},
      {"-Inf", -inf},
      {"Inf", inf},
      {"inf", inf},
      {"", std::nullopt},
      {"+", std::nullopt},
      {"1e", std::nullopt},
      {"0x10", std::nullopt},
      {"1.0.0", std::nullopt},
      {"12abc", std::nullopt},
      {"1e999", std::nullopt},
      {"Infx", std::nullopt},
      {" 1", std::nullopt},
      {"--1", std::nullopt},
  };
  for (const Case& c : cases) {
    std::optional<double> got = ParsePromFloat(c.text);
    ASSERT_EQ(got.has_value(), c.want.has_value()) << c.text;
    if (got) {
      EXPECT_DOUBLE_EQ(*got, *c.want) << c.text;
    }
  }
  ASSERT_TRUE(ParsePromFloat("NaN").has_value());
  EXPECT_TRUE(std::isnan(*ParsePromFloat("NaN")));
  EXPECT_TRUE(std::isnan(*ParsePromFloat("nan")));
}

TEST(SampleSet, InternsStringsAndLabelSetsOnce) {
  SampleSet set;
  StringId a = set.Intern("UUID");
  StringId b = set.Intern("GPU-1");
  EXPECT_EQ(set.Intern("UUID"), a);
  EXPECT_EQ(set.Intern(""), kEmptyString);
  LabelPair pairs[] = {{a, b}};
  LabelSetId s1 = set.InternLabelSet(pairs);
  EXPECT_EQ(set.InternLabelSet(pairs), s1);
  EXPECT_EQ(set.InternLabelSet({}), kEmptyLabelSet);
  set.Add(Sample{set.Intern("m"), s1, 1.0, 5});
  EXPECT_EQ(set.Label(set.samples()[0], "UUID"), "GPU-1");
  EXPECT_EQ(set.Label(set.samples()[0], "absent"), "");
  EXPECT_EQ(set.Metric(set.samples()[0]), "m");
}

TEST(SampleSet, ViewsSurviveGrowthAndMoves) {
  SampleSet set;
  std::string_view first = set.String(set.Intern("first-string"));
  for (int i = 0; i < 200000; ++i) set.Intern("s" + std::to_string(i));
  EXPECT_EQ(first, "first-string");
  for (int i = 0; i < 200000; i += 997) {
    ASSERT_TRUE(set.FindString("s" + std::to_string(i)).has_value()) << i;
  }
  SampleSet moved = std::move(set);
  EXPECT_EQ(first, "first-string");
  EXPECT_EQ(moved.String(*moved.FindString("s42")), "s42");
  EXPECT_FALSE(moved.FindString("nope").has_value());
}

}  // namespace
}  // namespace aitelemetry::collect
