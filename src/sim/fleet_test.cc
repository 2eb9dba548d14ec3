#include "sim/fleet.h"

#include <algorithm>
#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace aitelemetry::sim {
namespace {

TEST(BuildFleet, RejectsInvalidOptions) {
  struct Case {
    const char* name;
    FleetOptions options;
  };
  const Case cases[] = {
      {"zero gpus", {.seed = 1, .gpus = 0}},
      {"negative gpus", {.seed = 1, .gpus = -8}},
      {"zero hubs", {.seed = 1, .gpus = 8, .hubs = 0}},
      {"too many hubs", {.seed = 1, .gpus = 8, .hubs = 65}},
      {"negative mig", {.seed = 1, .gpus = 8, .mig_fraction = -0.1}},
      {"mig over one", {.seed = 1, .gpus = 8, .mig_fraction = 1.5}},
      {"zero slot", {.seed = 1, .gpus = 8, .slot = Nanos::zero()}},
      {"fractional slot", {.seed = 1, .gpus = 8, .slot = std::chrono::milliseconds(1500)}},
  };
  for (const Case& c : cases) {
    auto fleet = BuildFleet(c.options);
    ASSERT_FALSE(fleet.has_value()) << c.name;
    EXPECT_EQ(fleet.error().code, ErrorCode::kInvalidArgument) << c.name;
  }
}

TEST(BuildFleet, EntityCountsMatchOptions) {
  struct Case {
    uint64_t seed;
    int gpus;
    int hubs;
  };
  const Case cases[] = {{1, 1, 1}, {2, 8, 1}, {3, 100, 1}, {4, 250, 3}, {5, 1000, 8}, {6, 16, 10}};
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "seed " << c.seed << " gpus " << c.gpus);
    auto fleet = BuildFleet({.seed = c.seed, .gpus = c.gpus, .hubs = c.hubs});
    ASSERT_TRUE(fleet.has_value());
    const int total = static_cast<int>(fleet->gpus.size());
    EXPECT_GE(total, c.gpus);
    EXPECT_LT(total, c.gpus + 8);  // rounded up to whole nodes
    EXPECT_EQ(static_cast<int>(fleet->hubs.size()), c.hubs);
    std::set<std::string> cluster_names;
    for (const Hub& hub : fleet->hubs) {
      EXPECT_GE(hub.clusters.size(), 1u);
      EXPECT_LE(hub.clusters.size(), 3u);
    }
    for (const Cluster& cluster : fleet->clusters) {
      EXPECT_TRUE(cluster_names.insert(cluster.name).second) << cluster.name;
      EXPECT_GE(cluster.projects.size(), 3u);
      if (fleet->nodes.size() >= fleet->clusters.size()) {
        EXPECT_FALSE(cluster.nodes.empty());
      }
      std::set<std::string> ns;
      for (int p : cluster.projects) EXPECT_TRUE(ns.insert(fleet->projects[p].ns).second);
    }
    size_t units = 0;
    for (const Node& node : fleet->nodes) {
      const GpuModel& model = GpuModels()[node.model];
      EXPECT_EQ(static_cast<int>(node.gpus.size()), model.gpus_per_node);
      EXPECT_TRUE(node.gpus.size() == 8 || node.gpus.size() == 4);
    }
    for (const Gpu& gpu : fleet->gpus) units += gpu.mig ? gpu.slices.size() : 1;
    EXPECT_EQ(fleet->units.size(), units);
  }
}

TEST(BuildFleet, ModelsHaveRealMemoryTotals) {
  struct Case {
    std::string_view name;
    int64_t memory_mib;
    bool mig;
  };
  const Case cases[] = {{"NVIDIA A100-SXM4-40GB", 40960, true},
                        {"NVIDIA A100-SXM4-80GB", 81920, true},
                        {"NVIDIA H100 80GB HBM3", 81559, true},
                        {"NVIDIA L40S", 46068, false},
                        {"Tesla V100-SXM2-32GB", 32768, false}};
  ASSERT_EQ(GpuModels().size(), std::size(cases));
  for (size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(GpuModels()[i].model_name, cases[i].name);
    EXPECT_EQ(GpuModels()[i].memory_mib, cases[i].memory_mib);
    EXPECT_EQ(GpuModels()[i].mig_capable, cases[i].mig);
  }
}

TEST(BuildFleet, MigLayoutsAreReal) {
  const std::set<std::string_view> k40 = {"1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"};
  const std::set<std::string_view> k80 = {"1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"};
  auto fleet = BuildFleet({.seed = 9, .gpus = 2000, .mig_fraction = 1.0});
  ASSERT_TRUE(fleet.has_value());
  int mig_gpus = 0;
  for (const Gpu& gpu : fleet->gpus) {
    const GpuModel& model = GpuModels()[fleet->nodes[gpu.node].model];
    EXPECT_EQ(gpu.mig, model.mig_capable) << "fraction 1 enables every capable GPU";
    if (!gpu.mig) continue;
    ++mig_gpus;
    int compute = 0;
    std::set<int> ids;
    for (int s : gpu.slices) {
      const Slice& slice = fleet->slices[s];
      compute += slice.profile.compute_slices;
      EXPECT_TRUE(ids.insert(slice.gpu_i_id).second) << "duplicate GPU_I_ID";
      EXPECT_TRUE((model.mig_80gb_profiles ? k80 : k40).count(slice.profile.name))
          << slice.profile.name;
      EXPECT_EQ(slice.profile.name[0] - '0', slice.profile.compute_slices);
    }
    EXPECT_GE(compute, 1);
    EXPECT_LE(compute, 7);
  }
  EXPECT_GT(mig_gpus, 0);

  auto none = BuildFleet({.seed = 9, .gpus = 2000, .mig_fraction = 0.0});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->slices.empty());

  auto some = BuildFleet({.seed = 9, .gpus = 4000, .mig_fraction = 0.2});
  ASSERT_TRUE(some.has_value());
  const auto mig =
      std::count_if(some->gpus.begin(), some->gpus.end(), [](const Gpu& g) { return g.mig; });
  const double share = static_cast<double>(mig) / static_cast<double>(some->gpus.size());
  EXPECT_NEAR(share, 0.2, 0.05);
}

TEST(BuildFleet, DeterministicFromSeed) {
  auto a = BuildFleet({.seed = 42, .gpus = 64});
  auto b = BuildFleet({.seed = 42, .gpus = 64});
  auto c = BuildFleet({.seed = 43, .gpus = 64});
  ASSERT_TRUE(a && b && c);
  const std::regex uuid("GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  std::set<std::string> seen;
  ASSERT_EQ(a->gpus.size(), b->gpus.size());
  for (size_t i = 0; i < a->gpus.size(); ++i) {
    EXPECT_EQ(a->gpus[i].uuid, b->gpus[i].uuid);
    EXPECT_TRUE(std::regex_match(a->gpus[i].uuid, uuid)) << a->gpus[i].uuid;
    EXPECT_TRUE(seen.insert(a->gpus[i].uuid).second);
  }
  EXPECT_NE(a->gpus[0].uuid, c->gpus[0].uuid);
}

TEST(FindHub, NamesHubs) {
  auto fleet = BuildFleet({.seed = 1, .gpus = 64, .hubs = 3});
  ASSERT_TRUE(fleet.has_value());
  for (int h = 0; h < 3; ++h) EXPECT_EQ(*FindHub(*fleet, fleet->hubs[h].name), h);
  EXPECT_EQ(FindHub(*fleet, "nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(fleet->hubs[0].name, "moc");
}

}  // namespace
}  // namespace aitelemetry::sim
