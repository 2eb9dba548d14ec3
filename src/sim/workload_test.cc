#include "sim/workload.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

namespace aitelemetry::sim {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const Timestamp kT0 = Timestamp(seconds(1'767'225'600));  // 2026-01-01T00:00:00Z

Fleet MakeFleet(uint64_t seed, int gpus, double mig) {
  auto fleet = BuildFleet({.seed = seed, .gpus = gpus, .mig_fraction = mig});
  EXPECT_TRUE(fleet.has_value());
  return *fleet;
}

TEST(Workload, HoldingsStartAndStopAtSlotBoundaries) {
  const Fleet fleet = MakeFleet(7, 64, 0.3);
  const int64_t from = SlotIndex(fleet, kT0);
  const int64_t to = from + 6 * 24;  // one day of 10-minute slots
  std::set<WorkloadKind> kinds;
  for (int u = 0; u < static_cast<int>(fleet.units.size()); ++u) {
    const auto holdings = HoldingsBetween(fleet, u, from, to);
    int64_t previous_end = INT64_MIN;
    for (const Holding& h : holdings) {
      EXPECT_GE(h.end_slot - h.start_slot, 2);
      EXPECT_GE(h.start_slot, previous_end);  // disjoint, in time order
      previous_end = h.end_slot;
      kinds.insert(h.kind);
      EXPECT_EQ(fleet.projects[h.project].cluster,
                fleet.nodes[fleet.gpus[fleet.units[u].gpu].node].cluster);
    }
    int held = 0;
    for (int64_t s = from; s < to; ++s) {
      const auto at = HoldingAt(fleet, u, s);
      bool inside = false;
      for (const Holding& h : holdings) inside |= s >= h.start_slot && s < h.end_slot;
      EXPECT_EQ(at.has_value(), inside) << "unit " << u << " slot " << s;
      held += at.has_value();
    }
    // Over a day every unit is held at some times and free at others.
    EXPECT_GT(held, 0) << "unit " << u;
    EXPECT_LT(held, to - from) << "unit " << u;
  }
  EXPECT_EQ(kinds.size(), 4u);
}

TEST(Workload, IdleHoldersHaveZeroActivityAndHoldMemory) {
  const Fleet fleet = MakeFleet(11, 64, 0.3);
  int checked = 0;
  for (int u = 0; u < static_cast<int>(fleet.units.size()); ++u) {
    for (Timestamp t = kT0; t < kT0 + hours(12); t += minutes(7)) {
      const auto h = HoldingAt(fleet, u, SlotIndex(fleet, t));
      const UnitSignals s = UnitSignalsAt(fleet, u, h, t);
      EXPECT_GT(s.fb_total_mib, 0);
      if (!h) {
        EXPECT_EQ(s.fb_used_mib, 0);
        EXPECT_EQ(s.gr_engine_active, 0.0);
        continue;
      }
      EXPECT_GT(s.fb_used_mib, 0);
      EXPECT_LT(s.fb_used_mib, s.fb_total_mib);
      if (h->kind == WorkloadKind::kIdleHolder) {
        EXPECT_EQ(s.gr_engine_active, 0.0);
        EXPECT_EQ(s.tensor_active, 0.0);
        EXPECT_EQ(s.dram_active, 0.0);
        ++checked;
      } else {
        EXPECT_GE(s.gr_engine_active, 0.0);
        EXPECT_LE(s.gr_engine_active, 1.0);
      }
    }
  }
  EXPECT_GT(checked, 0);
}

TEST(Workload, KindsHaveTheirActivityLevels) {
  const Fleet fleet = MakeFleet(3, 128, 0.0);
  std::map<WorkloadKind, std::pair<double, int>> mean;
  for (int u = 0; u < static_cast<int>(fleet.units.size()); ++u) {
    for (Timestamp t = kT0; t < kT0 + hours(6); t += seconds(45)) {
      const auto h = HoldingAt(fleet, u, SlotIndex(fleet, t));
      if (!h) continue;
      auto& m = mean[h->kind];
      m.first += UnitSignalsAt(fleet, u, h, t).gr_engine_active;
      ++m.second;
    }
  }
  auto avg = [&](WorkloadKind k) { return mean[k].first / mean[k].second; };
  EXPECT_GT(avg(WorkloadKind::kTraining), 0.75);
  EXPECT_GT(avg(WorkloadKind::kInference), 0.2);
  EXPECT_LT(avg(WorkloadKind::kInference), 0.6);
  EXPECT_LT(avg(WorkloadKind::kNotebook), 0.2);
  EXPECT_EQ(avg(WorkloadKind::kIdleHolder), 0.0);
}

TEST(Workload, EnergyIsMonotonicAndMatchesPower) {
  const Fleet fleet = MakeFleet(5, 16, 0.5);
  for (int g = 0; g < static_cast<int>(fleet.gpus.size()); ++g) {
    const Gpu& gpu = fleet.gpus[g];
    double previous = -1;
    double power_sum = 0;
    int samples = 0;
    double rebooted_at = -1;
    const Timestamp from = kT0 + hours(30);
    const Timestamp to = from + hours(8);
    std::vector<UnitSignals> units(gpu.units.size());
    for (Timestamp t = from; t < to; t += seconds(15)) {
      for (size_t i = 0; i < gpu.units.size(); ++i) {
        const auto h = HoldingAt(fleet, gpu.units[i], SlotIndex(fleet, t));
        units[i] = UnitSignalsAt(fleet, gpu.units[i], h, t);
      }
      const GpuSignals s = GpuSignalsAt(fleet, g, units.data(), t);
      EXPECT_GT(s.temp_c, 20);
      EXPECT_GT(s.sm_clock_mhz, 100);
      const double energy = EnergyMillijoulesAt(fleet, g, t);
      if (energy < previous) rebooted_at = energy;  // a weekly reboot resets the counter
      EXPECT_TRUE(energy >= previous || energy < 15.0 * 700 * 1000) << "gpu " << g;
      previous = energy;
      power_sum += s.power_watts;
      ++samples;
    }
    if (rebooted_at >= 0) continue;
    const double joules =
        (EnergyMillijoulesAt(fleet, g, to) - EnergyMillijoulesAt(fleet, g, from)) / 1000;
    const double mean_power = power_sum / samples;
    EXPECT_NEAR(joules / 28800.0, mean_power, 0.05 * mean_power) << "gpu " << g;
  }
}

TEST(Workload, PodNamesDependOnKind) {
  Holding h;
  h.pod_id = 0x123456789abcdefULL;
  const std::pair<WorkloadKind, std::string> cases[] = {
      {WorkloadKind::kNotebook, "jupyter-nb-u6789abcdef-0"},
      {WorkloadKind::kIdleHolder, "jupyter-nb-u6789abcdef-0"},
      {WorkloadKind::kTraining, "train-6789abcdef-worker-0"},
      {WorkloadKind::kInference, "vllm-predictor-bcdef-6789a"},
  };
  for (const auto& [kind, want] : cases) {
    h.kind = kind;
    std::string name;
    AppendPodName(h, &name);
    EXPECT_EQ(name, want);
  }
}

}  // namespace
}  // namespace aitelemetry::sim
