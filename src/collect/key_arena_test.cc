#include "collect/key_arena.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace aitelemetry::collect {
namespace {

// Every kept string reads back as it was, however many blocks it took, long ones included, and
// none moves when more are kept.
TEST(KeyArena, KeepsStringsUnmovedAcrossBlocks) {
  KeyArena arena(64);
  std::vector<std::string> want;
  std::vector<std::string_view> kept;
  for (int i = 0; i < 500; ++i) {
    std::string s = "key-" + std::to_string(i) + std::string(static_cast<size_t>(i % 13), 'x');
    if (i % 97 == 0) s += std::string(200, 'L');  // longer than a block
    want.push_back(s);
    kept.push_back(arena.Keep(s));
    s.assign(s.size(), '?');  // the arena holds a copy
  }
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(kept[i], want[i]) << i;
  EXPECT_TRUE(arena.Keep("").empty());
  arena.Clear();
  EXPECT_EQ(arena.Keep("again"), "again");
}

}  // namespace
}  // namespace aitelemetry::collect
