#include "collect/string_index.h"

#include <string>

#include <gtest/gtest.h>

namespace aitelemetry::collect {
namespace {

TEST(StringIndex, FindsWhatWasInsertedThroughGrowth) {
  StringIndex index;
  EXPECT_FALSE(index.Find(""));
  index.Insert("", 7);
  for (uint32_t i = 0; i < 20000; ++i) index.Insert("GPU-" + std::to_string(i), i);
  EXPECT_EQ(index.size(), 20001u);
  EXPECT_EQ(index.Find(""), 7u);
  for (uint32_t i = 0; i < 20000; ++i) {
    ASSERT_EQ(index.Find("GPU-" + std::to_string(i)), i);
  }
  EXPECT_FALSE(index.Find("GPU-20000"));
  EXPECT_FALSE(index.Find("GPU-1 "));
  EXPECT_GT(index.MemoryUsage(), 20000u * 8);
  index.Clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_FALSE(index.Find("GPU-1"));
  index.Insert("GPU-1", 3);
  EXPECT_EQ(index.Find("GPU-1"), 3u);
}

}  // namespace
}  // namespace aitelemetry::collect
