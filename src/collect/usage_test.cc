#include "collect/usage.h"

#include <cmath>
#include <map>
#include <set>

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

// What the live sync writes (one row per device and project per sample, added up by the store)
// sums to what the accumulator of the same samples holds, holders of one project sharing a GPU
// merged into one row, unknown sums left null.
TEST(Usage, RowsOfEachSampleAddUpToTheAccumulatedHour) {
  Snapshot s = OneGpu(0.5, {{"a", "p1", "c"}, {"a", "p2", "c"}, {"b", "p3", "c"}});
  GpuEntry free_gpu = s.gpus[0];
  free_gpu.uuid = "GPU-2";
  free_gpu.holders.clear();
  free_gpu.readings.values[static_cast<int>(Signal::kFbUsed)] = NAN;
  s.gpus.push_back(free_gpu);
  UsageAccumulator straight;
  EnergyTracker energy_a, energy_b;
  std::map<std::string, model::Record> added;  // key -> the stored row, as UpsertAdding keeps it
  const auto sums = UsageAccumulator::SumFields();
  for (int i = 0; i < 3; ++i) {
    const Timestamp t = kHour + minutes(i);
    s.gpus[0].readings.values[static_cast<int>(Signal::kEnergy)] = 1000.0 * (i + 1);
    straight.Add(s, t, minutes(1), &energy_a);
    std::set<std::string> keys;
    auto st =
        ForEachUsageRow(s, t, minutes(1), &energy_b, nullptr, [&](model::Record&& r) -> Status {
          EXPECT_TRUE(keys.insert(r.Key()).second) << "twice in one sample: " << r.Key();
          auto [it, fresh] = added.try_emplace(r.Key(), r);
          if (fresh) return Ok();
          for (int f : sums) {
            double a = NAN, b = NAN;
            const bool has_a = model::AsDouble(it->second.values[f], &a);
            const bool has_b = model::AsDouble(r.values[f], &b);
            if (!has_b) continue;
            if (!has_a) {
              it->second.values[f] = r.values[f];
            } else if (std::holds_alternative<int64_t>(r.values[f])) {
              it->second.values[f] =
                  std::get<int64_t>(it->second.values[f]) + std::get<int64_t>(r.values[f]);
            } else {
              it->second.values[f] = a + b;
            }
          }
          return Ok();
        });
    ASSERT_TRUE(st);
    EXPECT_EQ(keys.size(), 3u);  // GPU-1 for a and for b, GPU-2 unallocated
  }
  auto want = straight.Records();
  ASSERT_EQ(want.size(), added.size());
  for (const auto& w : want) {
    SCOPED_TRACE(w.Key());
    ASSERT_TRUE(added.count(w.Key()));
    const auto& got = added.at(w.Key());
    for (size_t f = 0; f < w.values.size(); ++f) {
      double a = NAN, b = NAN;
      if (model::AsDouble(w.values[f], &a) && model::AsDouble(got.values[f], &b)) {
        EXPECT_NEAR(a, b, 1e-9 * std::max(1.0, std::abs(a))) << w.model->fields[f].name;
      } else {
        EXPECT_EQ(w.values[f], got.values[f]) << w.model->fields[f].name;
      }
    }
  }
  const auto& a = added.at(UsageAccumulator::RowKey(GpuKeyOf(s, 0), "a", kHour));
  EXPECT_EQ(std::get<int64_t>(a.Get("samples")), 6);  // two holders, three samples
  EXPECT_DOUBLE_EQ(D(a, "allocated_seconds"), 3 * 2 * 60.0 / 3);
  const auto& free_row = added.at(UsageAccumulator::RowKey(GpuKeyOf(s, 1), "", kHour));
  EXPECT_TRUE(model::IsNull(free_row.Get("memory_byte_seconds")));
  EXPECT_TRUE(model::IsNull(free_row.Get("project")));
}

// An error from the writer stops the rows at once and is returned.
TEST(Usage, ForEachUsageRowStopsAtTheFirstError) {
  Snapshot s = OneGpu(0.5, {{"a", "p1", "c"}, {"b", "p2", "c"}});
  int calls = 0;
  auto st = ForEachUsageRow(s, kHour, minutes(1), nullptr, nullptr, [&](model::Record&&) -> Status {
    ++calls;
    return Fail(ErrorCode::kUnavailable, "down");
  });
  EXPECT_FALSE(st);
  EXPECT_EQ(calls, 1);
}

// Time between two samples of a device that no sample covers is unobserved: charged to the
// project holding the device on both sides, else to the unallocated row; split at hours; never
// counted as held. A repeated sample time gives the same answer.
TEST(Usage, GapsBetweenSamplesAreUnobservedAndChargedByTheHolderRule) {
  Snapshot held = OneGpu(0.5, {{"a", "p1", "c"}});
  Snapshot other = OneGpu(0.5, {{"b", "p2", "c"}});
  GapTracker gaps;
  UsageAccumulator u;
  const Timestamp h0 = kHour, h1 = kHour + std::chrono::hours(1);
  u.Add(held, h0, minutes(1), nullptr, &gaps);
  u.Add(held, h0 + minutes(1), minutes(1), nullptr, &gaps);
  u.Add(held, h0 + minutes(10), minutes(1), nullptr, &gaps);  // 8 minutes missed, same holder
  u.Add(held, h0 + minutes(58), minutes(1), nullptr, &gaps);  // 47 minutes missed
  u.Add(other, h1 + minutes(5), minutes(1), nullptr, &gaps);  // 6 minutes missed, holder changed
  std::map<std::string, model::Record> rows;
  for (auto& r : u.Records()) rows.emplace(r.Key(), r);
  const std::string gpu = GpuKeyOf(held, 0);
  const auto& a0 = rows.at(UsageAccumulator::RowKey(gpu, "a", h0));
  EXPECT_DOUBLE_EQ(D(a0, "observed_seconds"), 4 * 60.0);
  EXPECT_DOUBLE_EQ(D(a0, "unobserved_seconds"), (8 + 47) * 60.0);
  EXPECT_DOUBLE_EQ(D(a0, "allocated_seconds"), 4 * 60.0);
  // The gap [0:59, 1:05) under a change of holder: unallocated, split at the hour.
  const auto& free0 = rows.at(UsageAccumulator::RowKey(gpu, "", h0));
  EXPECT_DOUBLE_EQ(D(free0, "unobserved_seconds"), 60.0);
  EXPECT_DOUBLE_EQ(D(free0, "allocated_seconds"), 0.0);
  const auto& free1 = rows.at(UsageAccumulator::RowKey(gpu, "", h1));
  EXPECT_DOUBLE_EQ(D(free1, "unobserved_seconds"), 5 * 60.0);
  const auto& b1 = rows.at(UsageAccumulator::RowKey(gpu, "b", h1));
  EXPECT_DOUBLE_EQ(D(b1, "unobserved_seconds"), 0.0);
  EXPECT_DOUBLE_EQ(D(b1, "observed_seconds"), 60.0);
  EXPECT_EQ(rows.size(), 4u);

  // A retried sample time sees the same gap again; a sample right after the last has none.
  GapTracker again;
  ASSERT_FALSE(again.Seen("d", 1, h0, minutes(1)));
  auto gap = again.Seen("d", 1, h0 + minutes(5), minutes(1));
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->from, h0 + minutes(1));
  EXPECT_EQ(gap->to, h0 + minutes(5));
  EXPECT_TRUE(gap->same_holders);
  auto retried = again.Seen("d", 1, h0 + minutes(5), minutes(1));
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->from, gap->from);
  EXPECT_FALSE(again.Seen("d", 2, h0 + minutes(6), minutes(1)));
}

}  // namespace
}  // namespace aitelemetry::collect
