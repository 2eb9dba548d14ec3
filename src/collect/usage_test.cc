#include "collect/usage.h"

#include <cmath>
#include <map>

#include <gtest/gtest.h>

namespace aitelemetry::collect {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const Timestamp kHour = FromUnixMillis(1'790'002'800'000);  // a whole UTC hour

Snapshot OneGpu(double activity, std::vector<Holder> holders, double power = 100,
                double fb_used = 1e9) {
  Snapshot s;
  s.hub = "h";
  s.clusters.push_back({"c"});
  s.nodes.push_back(NodeEntry{0, "n"});
  GpuEntry g;
  g.uuid = "GPU-1";
  g.model_name = "M";
  g.readings.values[static_cast<int>(Signal::kGrEngineActive)] = activity;
  g.readings.values[static_cast<int>(Signal::kPower)] = power;
  g.readings.values[static_cast<int>(Signal::kFbUsed)] = fb_used;
  g.holders = std::move(holders);
  s.gpus.push_back(std::move(g));
  return s;
}

std::map<std::string, model::Record> ByProject(const UsageAccumulator& u) {
  std::map<std::string, model::Record> out;
  for (auto& r : u.Records()) out[r.GetString("project")] = r;
  return out;
}

double D(const model::Record& r, const char* f) {
  double d = NAN;
  model::AsDouble(r.Get(f), &d);
  return d;
}

TEST(EnergyTracker, CounterIncreaseResetAndFallback) {
  EnergyTracker e;
  const Timestamp t = kHour;
  // First sample: no previous counter, power * step.
  EXPECT_DOUBLE_EQ(e.Take("g", t, seconds(60), 1000, 50), 3000);
  // Next: the counter's increase.
  EXPECT_DOUBLE_EQ(e.Take("g", t + seconds(60), seconds(60), 1500, 50), 500);
  // A reset (lower value): counted from zero.
  EXPECT_DOUBLE_EQ(e.Take("g", t + seconds(120), seconds(60), 200, 50), 200);
  // A gap: the previous reading is not one step back, so power * step.
  EXPECT_DOUBLE_EQ(e.Take("g", t + seconds(300), seconds(60), 900, 10), 600);
  // Neither counter nor power: unknown.
  EXPECT_TRUE(std::isnan(e.Take("x", t, seconds(60), NAN, NAN)));
}

TEST(Usage, TimeSlicingSplitsAndIdleCounts) {
  UsageAccumulator u;
  Snapshot s = OneGpu(0, {{"a", "p1", "c"}, {"b", "p2", "c"}});
  u.Add(s, kHour, minutes(10), nullptr);
  u.Add(s, kHour + minutes(10), minutes(10), nullptr);
  auto rows = ByProject(u);
  ASSERT_EQ(rows.size(), 2u);
  for (const char* p : {"a", "b"}) {
    const auto& r = rows.at(p);
    EXPECT_DOUBLE_EQ(D(r, "allocated_seconds"), 600);  // 2 samples * 600 s / 2 holders
    EXPECT_DOUBLE_EQ(D(r, "gpu_equivalent_seconds"), 600);
    EXPECT_DOUBLE_EQ(D(r, "idle_seconds"), 600);
    EXPECT_DOUBLE_EQ(D(r, "active_seconds"), 0);
    EXPECT_DOUBLE_EQ(D(r, "energy_joules"), 100 * 600.0 * 2 / 2);
    EXPECT_DOUBLE_EQ(D(r, "memory_byte_seconds"), 1e9 * 600);
    EXPECT_EQ(std::get<int64_t>(r.Get("samples")), 2);
    EXPECT_EQ(std::get<int64_t>(r.Get("hour")), ToUnixNanos(kHour));
  }
}

TEST(Usage, UnknownStaysNullAndFreeTimeHasNoProject) {
  UsageAccumulator u;
  u.Add(OneGpu(NAN, {}, NAN, NAN), kHour, minutes(5), nullptr);
  auto recs = u.Records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_TRUE(model::IsNull(recs[0].Get("project")));
  EXPECT_TRUE(model::IsNull(recs[0].Get("active_seconds")));
  EXPECT_TRUE(model::IsNull(recs[0].Get("energy_joules")));
  EXPECT_TRUE(model::IsNull(recs[0].Get("memory_byte_seconds")));
  EXPECT_DOUBLE_EQ(D(recs[0], "allocated_seconds"), 0);
}

TEST(Usage, MigSlicesCountTheirShare) {
  Snapshot s = OneGpu(NAN, {});
  s.gpus[0].slices = {0, 1};
  SliceEntry a;
  a.gpu_i_id = "1";
  a.profile = "3g.40gb";
  a.compute_share = 3.0 / 7;
  a.readings.values[static_cast<int>(Signal::kGrEngineActive)] = 0.5;
  a.holders = {{"p", "pod", "c"}};
  SliceEntry b = a;
  b.gpu_i_id = "2";
  b.holders.clear();
  s.slices = {a, b};
  UsageAccumulator u;
  u.Add(s, kHour, minutes(10), nullptr);
  auto rows = ByProject(u);
  ASSERT_EQ(rows.size(), 2u);  // the held slice and the free one
  const auto& r = rows.at("p");
  EXPECT_DOUBLE_EQ(D(r, "allocated_seconds"), 600);
  EXPECT_NEAR(D(r, "gpu_equivalent_seconds"), 600 * 3.0 / 7, 1e-9);
  EXPECT_NEAR(D(r, "active_seconds"), 600 * 3.0 / 7 * 0.5, 1e-9);
  EXPECT_NEAR(D(r, "energy_joules"), 100 * 600 * 3.0 / 7, 1e-9);
}

TEST(Usage, LoadThenAddContinuesAnHour) {
  UsageAccumulator first;
  Snapshot s = OneGpu(0.5, {{"a", "p", "c"}});
  first.Add(s, kHour, minutes(1), nullptr);
  UsageAccumulator resumed;
  resumed.Load(first.Records());
  resumed.Add(s, kHour + minutes(1), minutes(1), nullptr);
  UsageAccumulator straight;
  straight.Add(s, kHour, minutes(1), nullptr);
  straight.Add(s, kHour + minutes(1), minutes(1), nullptr);
  auto a = ByProject(resumed).at("a");
  auto b = ByProject(straight).at("a");
  for (const char* f : {"allocated_seconds", "active_seconds", "energy_joules", "samples"}) {
    EXPECT_DOUBLE_EQ(D(a, f), D(b, f)) << f;
  }
}

}  // namespace
}  // namespace aitelemetry::collect
