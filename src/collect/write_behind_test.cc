#include "collect/write_behind.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace aitelemetry::collect {
namespace {

TEST(WriteBehind, RunsJobsInOrderBehindTheCaller) {
  for (bool threaded : {true, false}) {
    WriteBehind wb(threaded, 2);
    std::vector<int> ran;  // only the job thread touches it until Drain returns
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(wb.Submit([&ran, i] {
        if (i % 7 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        ran.push_back(i);
        return Ok();
      }));
    }
    ASSERT_TRUE(wb.Drain());
    ASSERT_EQ(ran.size(), 50u) << threaded;
    for (int i = 0; i < 50; ++i) EXPECT_EQ(ran[static_cast<size_t>(i)], i);
  }
}

TEST(WriteBehind, TheFirstErrorStopsTheRestAndIsReturned) {
  for (bool threaded : {true, false}) {
    WriteBehind wb(threaded, 4);
    std::atomic<int> after{0};
    ASSERT_TRUE(wb.Submit([] { return Ok(); }));
    (void)wb.Submit([] { return Status(Fail(ErrorCode::kAborted, "first")); });
    for (int i = 0; i < 10; ++i) {
      (void)wb.Submit([&] {
        ++after;
        return Status(Fail(ErrorCode::kInternal, "later"));
      });
    }
    Status st = wb.Drain();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kAborted);
    EXPECT_EQ(st.error().message, "first");
    EXPECT_EQ(after.load(), 0) << threaded;
    // Later submissions are refused with the same error.
    Status again = wb.Submit([] { return Ok(); });
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().message, "first");
  }
}

TEST(WriteBehind, ADestroyedQueueRunsOrDropsWhatWasLeftAndJoins) {
  std::atomic<int> ran{0};
  {
    WriteBehind wb(true, 8);
    for (int i = 0; i < 8; ++i) {
      ASSERT_TRUE(wb.Submit([&] {
        ++ran;
        return Ok();
      }));
    }
  }
  EXPECT_EQ(ran.load(), 8);
}

}  // namespace
}  // namespace aitelemetry::collect
