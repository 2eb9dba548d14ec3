#include "core/time.h"

#include <gtest/gtest.h>

namespace aitelemetry {
namespace {

TEST(Rfc3339, ParsesAndFormatsRoundTrip) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z"},
      {"2026-11-01T01:02:03.5Z", "2026-11-01T01:02:03.5Z"},
      {"2026-11-01T01:02:03.123456789Z", "2026-11-01T01:02:03.123456789Z"},
      {"2026-11-01T01:00:00+01:00", "2026-11-01T00:00:00Z"},
      {"2026-11-01t00:00:00z", "2026-11-01T00:00:00Z"},
      {"2024-02-29T12:00:00-00:30", "2024-02-29T12:30:00Z"},
      {"2262-04-11T23:47:16.854775807Z", "2262-04-11T23:47:16.854775807Z"},
      {"1970-01-01T00:30:00+01:00", "1969-12-31T23:30:00Z"},
  };
  for (const auto& c : cases) {
    auto t = ParseRfc3339(c.in);
    ASSERT_TRUE(t.has_value()) << c.in;
    EXPECT_EQ(FormatRfc3339(*t), c.out) << c.in;
  }
}

TEST(Rfc3339, RejectsMalformed) {
  for (const char* bad :
       {"", "2026-11-01", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-01T24:00:00Z",
        "2026-11-01T00:00:00", "2026-11-01T00:00:00.Z", "2026-11-01T00:00:00Zjunk",
        "1969-12-31T23:59:59Z", "abcd-ef-ghTij:kl:mnZ", "2026-11-01T00:00:00+1:00",
        // Past the last nanosecond a Timestamp holds: refused, never wrapped around.
        "2262-04-11T23:47:16.854775808Z", "2262-04-12T00:00:00Z", "2600-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z", "2262-04-11T23:00:00-01:00"}) {
    auto t = ParseRfc3339(bad);
    EXPECT_FALSE(t.has_value()) << bad;
    if (!t) {
      EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
    }
  }
}

TEST(Duration, Parses) {
  using namespace std::chrono;
  EXPECT_EQ(*ParseDuration("30s"), seconds{30});
  EXPECT_EQ(*ParseDuration("1h30m"), minutes{90});
  EXPECT_EQ(*ParseDuration("7d"), hours{168});
  EXPECT_EQ(*ParseDuration("1m500ms"), milliseconds{60500});
  EXPECT_EQ(FormatDuration(minutes{90}), "1h30m");
  EXPECT_EQ(FormatDuration(Nanos{0}), "0s");
}

TEST(Duration, RejectsMalformed) {
  for (const char* bad :
       {"", "s", "30", "30x", "1m1h", "1s1s", "-5s", "99999999999999999999s", "1.5h", "30 s"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
}

TEST(Time, FloorToHour) {
  auto t = *ParseRfc3339("2026-11-01T05:59:59.9Z");
  EXPECT_EQ(FormatRfc3339(FloorToHour(t)), "2026-11-01T05:00:00Z");
}

}  // namespace
}  // namespace aitelemetry
