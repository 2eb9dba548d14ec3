#include "metrics/metrics.h"

#include <gtest/gtest.h>

namespace aitelemetry::metrics {
namespace {

TEST(Metrics, RendersCountersGaugesAndHistograms) {
  Registry r;
  r.Counter("aitelemetry_sync_errors_total", "Failed syncs.", {"hub"}).Add({"moc"}, 2);
  r.Gauge("aitelemetry_entities", "Entities by state.", {"model", "state"}).Set({"gpu", "a\"b"}, 3);
  auto& h = r.Histogram("aitelemetry_sync_duration_seconds", "Sync time.", {"hub"}, {0.5, 1});
  h.Observe({"moc"}, 0.7);
  int collected = 0;
  r.OnCollect([&] { ++collected; });
  std::string text = r.Render();
  EXPECT_EQ(collected, 1);
  EXPECT_NE(text.find("# TYPE aitelemetry_sync_errors_total "
                      "counter\naitelemetry_sync_errors_total{hub=\"moc\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("aitelemetry_entities{model=\"gpu\",state=\"a\\\"b\"} 3"), std::string::npos);
  EXPECT_NE(text.find("aitelemetry_sync_duration_seconds_bucket{hub=\"moc\",le=\"0.5\"} 0"),
            std::string::npos);
  EXPECT_NE(text.find("aitelemetry_sync_duration_seconds_bucket{hub=\"moc\",le=\"1\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("aitelemetry_sync_duration_seconds_count{hub=\"moc\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace aitelemetry::metrics
