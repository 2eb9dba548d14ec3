#include "sim/exposition.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include "sim/series.h"
#include "sim/text_format_checker.h"
#include "sim/workload.h"

namespace aitelemetry::sim {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using testing_support::Sample;

const Timestamp kT0 = Timestamp(seconds(1'767'225'600));  // 2026-01-01T00:00:00Z

Fleet MakeFleet(FleetOptions options) {
  auto fleet = BuildFleet(options);
  EXPECT_TRUE(fleet.has_value());
  return *fleet;
}

// Checks `text` line by line: each line is "# HELP", "# TYPE" or a sample; families are
// contiguous and typed once; every sample carries `cluster` last. Returns the samples.
std::vector<Sample> CheckExposition(std::string_view text) {
  std::vector<Sample> samples;
  std::set<std::string> typed;
  std::string family;
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  for (std::string_view line : testing_support::Lines(text)) {
    if (line.starts_with("# HELP ")) continue;
    if (line.starts_with("# TYPE ")) {
      const std::string_view rest = line.substr(7);
      const size_t space = rest.find(' ');
      family = std::string(rest.substr(0, space));
      const std::string_view type = rest.substr(space + 1);
      EXPECT_TRUE(type == "gauge" || type == "counter") << line;
      EXPECT_TRUE(typed.insert(family).second) << "family typed twice: " << family;
      continue;
    }
    Sample sample;
    EXPECT_TRUE(testing_support::ParseSampleLine(line, &sample)) << "bad line: " << line;
    EXPECT_EQ(sample.name, family) << "family not contiguous: " << line;
    EXPECT_FALSE(sample.has_timestamp) << line;
    EXPECT_FALSE(sample.labels.empty());
    if (!sample.labels.empty()) {
      EXPECT_EQ(sample.labels.back().first, "cluster") << line;
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

TEST(Exposition, ParsesLineByLine) {
  const Fleet fleet = MakeFleet({.seed = 1, .gpus = 64, .mig_fraction = 0.3});
  const std::string text = RenderExposition(fleet, "moc", kT0);
  const auto samples = CheckExposition(text);
  std::map<std::string, int> per_family;
  for (const Sample& s : samples) ++per_family[s.name];
  int whole = 0;
  for (const Unit& u : fleet.units) whole += u.slice < 0;
  EXPECT_EQ(per_family["DCGM_FI_DEV_GPU_UTIL"], whole);
  EXPECT_EQ(per_family["DCGM_FI_PROF_GR_ENGINE_ACTIVE"], static_cast<int>(fleet.units.size()));
  EXPECT_EQ(per_family["kube_node_labels"], static_cast<int>(fleet.nodes.size()));
  EXPECT_GT(per_family["kube_pod_container_resource_requests"], 0);
  EXPECT_EQ(per_family["kube_pod_status_phase"],
            per_family["kube_pod_container_resource_requests"]);
  EXPECT_EQ(per_family.size(), 14u);
}

TEST(Exposition, DeterministicFromSeed) {
  const Fleet a = MakeFleet({.seed = 42, .gpus = 32});
  const Fleet b = MakeFleet({.seed = 42, .gpus = 32});
  const Fleet c = MakeFleet({.seed = 43, .gpus = 32});
  EXPECT_EQ(RenderExposition(a, "moc", kT0), RenderExposition(b, "moc", kT0));
  EXPECT_NE(RenderExposition(a, "moc", kT0), RenderExposition(c, "moc", kT0));
  EXPECT_NE(RenderExposition(a, "moc", kT0), RenderExposition(a, "moc", kT0 + minutes(30)));
}

TEST(Exposition, LabelsInExporterOrder) {
  const Fleet fleet = MakeFleet({.seed = 2, .gpus = 64, .mig_fraction = 0.5});
  int mig = 0;
  int allocated = 0;
  for (const Sample& s : CheckExposition(RenderExposition(fleet, "moc", kT0))) {
    if (!s.name.starts_with("DCGM_")) continue;
    std::vector<std::string> names;
    for (const auto& [k, v] : s.labels) names.push_back(k);
    std::vector<std::string> want = {"gpu", "UUID", "pci_bus_id", "device", "modelName"};
    if (s.HasLabel("GPU_I_ID")) {
      want.insert(want.end(), {"GPU_I_PROFILE", "GPU_I_ID"});
      ++mig;
    }
    want.push_back(s.HasLabel("Hostname") ? "Hostname" : "hostname");
    want.push_back("DCGM_FI_DRIVER_VERSION");
    if (s.HasLabel("err_code")) want.push_back("err_code");
    if (s.HasLabel("namespace")) want.insert(want.end(), {"namespace", "pod", "container"});
    if (s.HasLabel("exported_namespace")) {
      want.insert(want.end(), {"exported_namespace", "exported_pod", "exported_container"});
    }
    allocated += s.HasLabel("namespace") || s.HasLabel("exported_namespace");
    want.push_back("cluster");
    EXPECT_EQ(names, want) << s.name;
    EXPECT_EQ(s.Label("device"), "nvidia" + s.Label("gpu"));
  }
  EXPECT_GT(mig, 0);
  EXPECT_GT(allocated, 0);
}

TEST(Exposition, GpuUtilAbsentOnMigInstances) {
  const Fleet fleet = MakeFleet({.seed = 4, .gpus = 64, .mig_fraction = 1.0});
  std::set<std::string> mig_uuids;
  for (const Gpu& g : fleet.gpus) {
    if (g.mig) mig_uuids.insert(g.uuid);
  }
  ASSERT_FALSE(mig_uuids.empty());
  int slice_activity = 0;
  for (const Sample& s : CheckExposition(RenderExposition(fleet, "moc", kT0))) {
    if (s.name == "DCGM_FI_DEV_GPU_UTIL") {
      EXPECT_FALSE(s.HasLabel("GPU_I_ID"));
      EXPECT_EQ(mig_uuids.count(s.Label("UUID")), 0u) << "MIG parent has no GPU_UTIL";
    }
    if (s.name == "DCGM_FI_PROF_GR_ENGINE_ACTIVE" && s.HasLabel("GPU_I_ID")) {
      ++slice_activity;
      EXPECT_GE(s.value, 0);
      EXPECT_LE(s.value, 1);
    }
    if (s.name.starts_with("DCGM_") && mig_uuids.count(s.Label("UUID"))) {
      EXPECT_TRUE(s.HasLabel("GPU_I_PROFILE")) << "a MIG GPU reports per instance";
    }
  }
  EXPECT_EQ(slice_activity, static_cast<int>(fleet.slices.size()));
}

TEST(Exposition, LabelVariantsAcrossClusters) {
  const Fleet fleet = MakeFleet({.seed = 8, .gpus = 256, .hubs = 2});
  ASSERT_GE(fleet.clusters.size(), 2u);
  std::set<std::string> seen;
  for (const Hub& hub : fleet.hubs) {
    for (const Sample& s : CheckExposition(RenderExposition(fleet, hub.name, kT0))) {
      for (const char* label : {"Hostname", "hostname", "namespace", "exported_namespace",
                                "exported_pod", "err_code"}) {
        if (s.name.starts_with("DCGM_") && s.HasLabel(label)) seen.insert(label);
      }
    }
  }
  for (const char* label :
       {"Hostname", "hostname", "namespace", "exported_namespace", "exported_pod"}) {
    EXPECT_TRUE(seen.count(label)) << label;
  }
}

TEST(Exposition, IdleHoldersShowZeroActivityWithMemory) {
  const Fleet fleet = MakeFleet({.seed = 12, .gpus = 128, .mig_fraction = 0.3});
  const int64_t slot = SlotIndex(fleet, kT0);
  std::set<std::pair<std::string, std::string>> idle;  // (UUID, GPU_I_ID)
  for (int u = 0; u < static_cast<int>(fleet.units.size()); ++u) {
    const auto h = HoldingAt(fleet, u, slot);
    if (!h || h->kind != WorkloadKind::kIdleHolder) continue;
    const Unit& unit = fleet.units[u];
    idle.emplace(fleet.gpus[unit.gpu].uuid,
                 unit.slice < 0 ? "" : std::to_string(fleet.slices[unit.slice].gpu_i_id));
  }
  ASSERT_FALSE(idle.empty());
  int activity = 0;
  int memory = 0;
  for (const Hub& hub : fleet.hubs) {
    for (const Sample& s : CheckExposition(RenderExposition(fleet, hub.name, kT0))) {
      if (!idle.count({s.Label("UUID"), s.Label("GPU_I_ID")})) continue;
      const bool labelled = s.HasLabel("namespace") || s.HasLabel("exported_namespace");
      if (s.name == "DCGM_FI_PROF_GR_ENGINE_ACTIVE" || s.name == "DCGM_FI_DEV_GPU_UTIL" ||
          s.name == "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE") {
        EXPECT_EQ(s.value, 0.0);
        EXPECT_TRUE(labelled);
        ++activity;
      }
      if (s.name == "DCGM_FI_DEV_FB_USED") {
        EXPECT_GT(s.value, 0.0);
        ++memory;
      }
    }
  }
  EXPECT_GE(activity, static_cast<int>(idle.size()));
  EXPECT_EQ(memory, static_cast<int>(idle.size()));
}

TEST(Exposition, HubFiltering) {
  const Fleet fleet = MakeFleet({.seed = 5, .gpus = 200, .hubs = 3});
  std::set<std::string> all_clusters;
  for (const Hub& hub : fleet.hubs) {
    std::set<std::string> own;
    for (int c : hub.clusters) own.insert(fleet.clusters[c].name);
    std::set<std::string> uuids;
    for (const Sample& s : CheckExposition(RenderExposition(fleet, hub.name, kT0))) {
      EXPECT_TRUE(own.count(s.Label("cluster"))) << hub.name << " served " << s.Label("cluster");
      all_clusters.insert(s.Label("cluster"));
      if (s.name == "DCGM_FI_DEV_POWER_USAGE") uuids.insert(s.Label("UUID"));
    }
    size_t gpus = 0;
    for (int c : hub.clusters) {
      for (int n : fleet.clusters[c].nodes) gpus += fleet.nodes[n].gpus.size();
    }
    EXPECT_EQ(uuids.size(), gpus) << hub.name;
  }
  EXPECT_EQ(all_clusters.size(), fleet.clusters.size());
  EXPECT_EQ(RenderExposition(fleet, "no-such-hub", kT0), "");
}

TEST(Exposition, KubeRequestsMatchAllocatedUnits) {
  const Fleet fleet = MakeFleet({.seed = 6, .gpus = 128, .mig_fraction = 0.3});
  for (Timestamp t = kT0; t < kT0 + std::chrono::hours(3); t += minutes(25)) {
    double requested = 0;
    double allocated = 0;
    for (const Sample& s : CheckExposition(RenderExposition(fleet, "moc", t))) {
      if (s.name == "kube_pod_container_resource_requests") {
        EXPECT_EQ(s.Label("unit"), "integer");
        const std::string resource = s.Label("resource");
        if (resource == "nvidia_com_gpu") {
          requested += s.value;
        } else {
          ASSERT_TRUE(resource.starts_with("nvidia_com_mig_")) << resource;
          requested += (resource[15] - '0') / 7.0 * s.value;
        }
      }
      if (s.name == "DCGM_FI_PROF_GR_ENGINE_ACTIVE" &&
          (s.HasLabel("namespace") || s.HasLabel("exported_namespace"))) {
        const std::string profile = s.Label("GPU_I_PROFILE");
        allocated += profile.empty() ? 1.0 : (profile[0] - '0') / 7.0;
      }
    }
    EXPECT_NEAR(requested, allocated, 1e-9);
    EXPECT_GT(allocated, 0);
  }
}

TEST(Exposition, EscapesLabelValues) {
  const std::pair<std::string, std::string> cases[] = {
      {"plain", "plain"},
      {"a\"b", "a\\\"b"},
      {"back\\slash", "back\\\\slash"},
      {"two\nlines", "two\\nlines"},
      {"", ""},
  };
  for (const auto& [in, want] : cases) {
    std::string out;
    AppendEscaped(in, &out);
    EXPECT_EQ(out, want);
  }
}

}  // namespace
}  // namespace aitelemetry::sim
