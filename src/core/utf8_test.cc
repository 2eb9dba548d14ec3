#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace aitelemetry {
namespace {

TEST(Utf8, ChecksAndRepairsText) {
  struct Case {
    std::string in;
    std::string repaired;  // what MakeValidUtf8 leaves
  };
  const std::string r = "\xEF\xBF\xBD";  // U+FFFD
  const Case cases[] = {
      {"", ""},
      {"A100-SXM4-80GB", "A100-SXM4-80GB"},
      {"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"},
      {"a\xFFz", "a" + r + "z"},                        // a byte that starts nothing
      {"a\xC3", "a" + r},                               // truncated at the end
      {"\xC0\xAF", r + r},                              // overlong '/'
      {"\xED\xA0\x80", r + r + r},                      // a surrogate
      {"\xF4\x90\x80\x80", r + r + r + r},              // past U+10FFFF
      {"pod-\x80-\xE2\x82", "pod-" + r + "-" + r + r},  // stray continuation, cut sequence
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsValidUtf8(c.in), c.in == c.repaired) << c.in;
    std::string text = c.in;
    EXPECT_EQ(MakeValidUtf8(&text), c.in != c.repaired) << c.in;
    EXPECT_EQ(text, c.repaired);
    EXPECT_TRUE(IsValidUtf8(text));
  }
}

}  // namespace
}  // namespace aitelemetry
