#include "collect/spacing.h"

#include <vector>

#include <gtest/gtest.h>

namespace aitelemetry::collect {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(SpacingOfTimestamps, TableOfCases) {
  struct Case {
    const char* name;
    std::vector<int64_t> ts;
    std::optional<Nanos> want;
  };
  const std::vector<Case> cases = {
      {"none", {}, std::nullopt},
      {"one sample", {1000}, std::nullopt},
      {"one sample repeated", {1000, 1000, 1000}, std::nullopt},
      {"regular 15 s", {0, 15000, 30000, 45000}, seconds(15)},
      {"out of order", {45000, 0, 30000, 15000}, seconds(15)},
      {"an outage does not widen it", {0, 60000, 120000, 600000, 660000}, seconds(60)},
      {"jitter", {7, 15012, 29998, 45003, 60001}, milliseconds(14998)},
      {"five minutes", {0, 300000}, seconds(300)},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(SpacingOfTimestamps(c.ts), c.want) << c.name;
  }
}

TEST(GridForSpacing, StepDividesAnHourAndWindowIsTheSpacing) {
  struct Case {
    Nanos spacing;
    Nanos step;
  };
  const std::vector<Case> cases = {
      {seconds(15), seconds(15)},         {seconds(60), seconds(60)},
      {seconds(300), seconds(300)},       {seconds(7), milliseconds(6250)},
      {milliseconds(15002), seconds(15)}, {seconds(7200), seconds(3600)},
      {milliseconds(1), milliseconds(1)}, {seconds(3599), std::chrono::minutes(30)},
  };
  for (const Case& c : cases) {
    const SampleGrid g = GridForSpacing(c.spacing);
    EXPECT_EQ(g.step, c.step) << c.spacing.count();
    EXPECT_EQ(g.window, c.spacing) << c.spacing.count();
    EXPECT_EQ(std::chrono::hours(1) % g.step, Nanos(0));
  }
}

}  // namespace
}  // namespace aitelemetry::collect
