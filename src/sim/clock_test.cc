#include "sim/clock.h"

#include <gtest/gtest.h>

namespace aitelemetry::sim {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;

TEST(SimClock, FromFlags) {
  const Timestamp real = *ParseRfc3339("2026-12-04T15:00:00Z");
  struct Case {
    const char* at;
    const char* offset;
    Nanos want;
  };
  const Case cases[] = {
      {"", "", Nanos::zero()},
      {"2026-11-02T03:00:00Z", "", -(hours(24 * 32) + hours(12))},
      {"2026-12-04T16:30:00+01:00", "", minutes(30)},
      {"", "3h", hours(3)},
      {"", "+1d2h", hours(26)},
      {"", "-3h", -hours(3)},
      {"", "-1500ms", -milliseconds(1500)},
  };
  for (const Case& c : cases) {
    auto clock = SimClock::FromFlags(c.at, c.offset, real);
    ASSERT_TRUE(clock) << c.at << c.offset << ": " << clock.error().message;
    EXPECT_EQ(clock->offset(), c.want) << c.at << c.offset;
    EXPECT_EQ(clock->At(real + minutes(7)), real + minutes(7) + c.want) << c.at << c.offset;
  }
}

TEST(SimClock, AtStartsTheClockThere) {
  const Timestamp at = *ParseRfc3339("2026-11-02T03:00:00Z");
  auto clock = SimClock::FromFlags("2026-11-02T03:00:00Z", "", Now());
  ASSERT_TRUE(clock);
  // The simulated clock advances with real time from `at`: never before it, and within the
  // time this test takes of it.
  const Timestamp now = clock->Now();
  EXPECT_GE(now, at);
  EXPECT_LT(now, at + hours(1));
}

TEST(SimClock, RejectsBadFlags) {
  struct Case {
    const char* at;
    const char* offset;
    const char* names;
  };
  const Case cases[] = {
      {"yesterday", "", "--at"},
      {"", "3 hours", "--clock-offset"},
      {"", "-", "--clock-offset"},
      {"", "--3h", "--clock-offset"},
      {"2026-11-02T03:00:00Z", "1h", "exclude"},
  };
  for (const Case& c : cases) {
    auto clock = SimClock::FromFlags(c.at, c.offset, Now());
    ASSERT_FALSE(clock) << c.at << c.offset;
    EXPECT_EQ(clock.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(clock.error().message.find(c.names), std::string::npos) << clock.error().message;
  }
}

}  // namespace
}  // namespace aitelemetry::sim
