#include "sim/fleet.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "sim/prng.h"

namespace aitelemetry::sim {
namespace {

// Domain tags keep hash streams for different purposes apart.
constexpr uint64_t kTagFleet = 0x666c656574ULL;  // "fleet"
constexpr uint64_t kTagUuid = 0x75756964ULL;     // "uuid"

const MigProfile kA100_40[] = {
    {"1g.5gb", 1, 4864},   {"2g.10gb", 2, 9856},  {"3g.20gb", 3, 19968},
    {"4g.20gb", 4, 19968}, {"7g.40gb", 7, 40192},
};
const MigProfile kA100_80[] = {
    {"1g.10gb", 1, 9728},  {"2g.20gb", 2, 19968}, {"3g.40gb", 3, 40192},
    {"4g.40gb", 4, 40192}, {"7g.80gb", 7, 80384},
};

// Real MIG layouts (as mig-parted configures them), as indices into the profile tables above
// (0=1g, 1=2g, 2=3g, 3=4g, 4=7g). Compute slices of each sum to at most 7.
const std::vector<std::vector<int>> kLayouts = {
    {4},                    // one 7g instance ("all-7g")
    {3, 2},                 // 4g + 3g
    {2, 2},                 // "all-3g"
    {1, 1, 1, 0},           // 2g x3 + 1g
    {0, 0, 0, 0, 0, 0, 0},  // "all-1g"
    {2, 1, 0, 0},           // "all-balanced"
};

// GPU_I_ID as the driver assigns them by placement: 7g -> 0, 4g -> 1, 3g -> 1 or 2, 2g -> 3..5,
// 1g -> 7..13.
constexpr std::array<int, 5> kFirstInstanceId = {7, 3, 1, 1, 0};

constexpr std::array<std::string_view, 8> kHubNames = {"moc", "bu",    "harvard", "mit",
                                                       "neu", "umass", "yale",    "uri"};
constexpr std::array<std::string_view, 3> kClusterRoles = {"prod", "test", "edu"};
constexpr std::array<std::string_view, 20> kProjectNames = {
    "ai4cloudops",    "llm-lab",    "vision-research", "nlp-group",      "bio-ml",
    "climate-ai",     "robotics",   "genomics",        "finetune-team",  "course-cs599",
    "hpc-benchmarks", "quantum-ml", "medical-imaging", "rl-agents",      "speech-lab",
    "materials-sim",  "astro-ml",   "privacy-ai",      "edge-inference", "data-science"};
constexpr std::array<std::string_view, 3> kDriverVersions = {"535.129.03", "550.90.07",
                                                             "570.124.06"};
// PCI bus ids of the GPUs in a DGX-style 8-GPU board and a 4-GPU PCIe server.
constexpr std::array<int, 8> kBus8 = {0x07, 0x0F, 0x47, 0x4E, 0x87, 0x90, 0xB7, 0xBD};
constexpr std::array<int, 4> kBus4 = {0x01, 0x25, 0xC1, 0xE1};

// Model mix by weight (out of 100): A100-40, A100-80, H100, L40S, V100.
constexpr std::array<int, 5> kModelWeights = {25, 25, 20, 15, 15};

int PickModel(SplitMixStream& rng) {
  int r = static_cast<int>(rng.Below(100));
  for (int m = 0; m < static_cast<int>(kModelWeights.size()); ++m) {
    if (r < kModelWeights[m]) return m;
    r -= kModelWeights[m];
  }
  return 0;
}

std::string MakeUuid(uint64_t seed, uint64_t gpu) {
  uint64_t a = Hash(seed, kTagUuid, gpu, 1);
  uint64_t b = Hash(seed, kTagUuid, gpu, 2);
  return fmt::format("GPU-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff,
                     a & 0xffff, b >> 48, b & 0xffffffffffffULL);
}

}  // namespace

const std::vector<GpuModel>& GpuModels() {
  static const std::vector<GpuModel> kModels = {
      {"NVIDIA A100-SXM4-40GB", "NVIDIA-A100-SXM4-40GB", 40960, 8, 55, 400, 210, 1410, true, false},
      {"NVIDIA A100-SXM4-80GB", "NVIDIA-A100-SXM4-80GB", 81920, 8, 62, 400, 210, 1410, true, true},
      {"NVIDIA H100 80GB HBM3", "NVIDIA-H100-80GB-HBM3", 81559, 8, 72, 700, 345, 1980, true, true},
      {"NVIDIA L40S", "NVIDIA-L40S", 46068, 4, 34, 350, 210, 2520, false, false},
      {"Tesla V100-SXM2-32GB", "Tesla-V100-SXM2-32GB", 32768, 8, 42, 300, 135, 1530, false, false},
  };
  return kModels;
}

Result<Fleet> BuildFleet(const FleetOptions& options) {
  if (options.gpus < 1 || options.gpus > 10'000'000) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("gpus: {} is not in [1, 10000000]", options.gpus));
  }
  if (options.hubs < 1 || options.hubs > 64) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("hubs: {} is not in [1, 64]", options.hubs));
  }
  if (!(options.mig_fraction >= 0.0 && options.mig_fraction <= 1.0)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("mig_fraction: {} is not in [0, 1]", options.mig_fraction));
  }
  if (options.slot <= Nanos::zero() || options.slot % std::chrono::seconds(1) != Nanos::zero()) {
    return Fail(ErrorCode::kInvalidArgument, "slot: must be a positive whole number of seconds");
  }

  Fleet fleet;
  fleet.options = options;
  SplitMixStream rng(Hash(options.seed, kTagFleet));
  const auto& models = GpuModels();

  // Nodes first (their count bounds the number of clusters).
  std::vector<int> node_models;
  int total = 0;
  while (total < options.gpus) {
    int m = PickModel(rng);
    node_models.push_back(m);
    total += models[m].gpus_per_node;
  }
  const int node_count = static_cast<int>(node_models.size());

  // Hubs and clusters.
  for (int h = 0; h < options.hubs; ++h) {
    Hub hub;
    hub.name = h < static_cast<int>(kHubNames.size()) ? std::string(kHubNames[h])
                                                      : fmt::format("hub{}", h);
    fleet.hubs.push_back(std::move(hub));
  }
  std::vector<int> clusters_per_hub(options.hubs);
  for (int h = 0; h < options.hubs; ++h) clusters_per_hub[h] = 1 + static_cast<int>(rng.Below(3));
  // Never more clusters than nodes: trim from the last hub, keeping one cluster per hub when
  // possible (a hub without a node is still served, with kube_node_labels only absent).
  int cluster_total = 0;
  for (int c : clusters_per_hub) cluster_total += c;
  for (int h = options.hubs - 1; h >= 0 && cluster_total > std::max(node_count, options.hubs);
       --h) {
    while (clusters_per_hub[h] > 1 && cluster_total > std::max(node_count, options.hubs)) {
      --clusters_per_hub[h];
      --cluster_total;
    }
  }
  for (int h = 0; h < options.hubs; ++h) {
    for (int k = 0; k < clusters_per_hub[h]; ++k) {
      const int c = static_cast<int>(fleet.clusters.size());
      Cluster cluster;
      cluster.hub = h;
      cluster.name = fmt::format("{}-ocp-{}", fleet.hubs[h].name, kClusterRoles[k]);
      // Alternate the exporter quirks so that any two clusters show both spellings of each.
      cluster.old_hostname = c % 2 == 0;
      cluster.exported_labels = (c % 2 == 0) != ((c / 2) % 2 == 1);
      cluster.driver_version =
          std::string(kDriverVersions[cluster.old_hostname ? 0 : 1 + rng.Below(2)]);
      const int project_count = 3 + static_cast<int>(rng.Below(10));
      const int first = static_cast<int>(rng.Below(kProjectNames.size()));
      for (int p = 0; p < project_count; ++p) {
        cluster.projects.push_back(static_cast<int>(fleet.projects.size()));
        fleet.projects.push_back(
            Project{c, std::string(kProjectNames[(first + p) % kProjectNames.size()])});
      }
      fleet.hubs[h].clusters.push_back(c);
      fleet.clusters.push_back(std::move(cluster));
    }
  }

  // MIG: enable on capable GPUs with the probability that meets the target share.
  double capable_share = 0;
  for (int m = 0; m < static_cast<int>(models.size()); ++m) {
    if (models[m].mig_capable) capable_share += kModelWeights[m] / 100.0;
  }
  const double mig_probability = std::min(1.0, options.mig_fraction / capable_share);

  std::vector<int> per_cluster_count(fleet.clusters.size(), 0);
  for (int n = 0; n < node_count; ++n) {
    const int c = n % static_cast<int>(fleet.clusters.size());
    const GpuModel& model = models[node_models[n]];
    Node node;
    node.cluster = c;
    node.model = node_models[n];
    node.name = fmt::format("wrk-gpu-{:03d}", per_cluster_count[c]++);
    node.epoch_slots = 6 + static_cast<int>(rng.Below(19));
    node.epoch_phase = static_cast<int>(rng.Below(node.epoch_slots));
    const int node_index = static_cast<int>(fleet.nodes.size());
    for (int i = 0; i < model.gpus_per_node; ++i) {
      const int g = static_cast<int>(fleet.gpus.size());
      Gpu gpu;
      gpu.node = node_index;
      gpu.index = i;
      gpu.uuid = MakeUuid(options.seed, static_cast<uint64_t>(g));
      const int bus = model.gpus_per_node == 8 ? kBus8[i] : kBus4[i];
      gpu.pci_bus_id = fmt::format("00000000:{:02X}:00.0", bus);
      const double draw = rng.Uniform();
      gpu.mig = model.mig_capable && draw < mig_probability;
      if (gpu.mig) {
        node.any_mig = true;
        const auto& layout = kLayouts[rng.Below(kLayouts.size())];
        const MigProfile* table = model.mig_80gb_profiles ? kA100_80 : kA100_40;
        std::array<int, 5> next_id = kFirstInstanceId;
        std::vector<int> used_ids;
        for (int p : layout) {
          int id = next_id[p]++;
          while (std::find(used_ids.begin(), used_ids.end(), id) != used_ids.end())
            id = next_id[p]++;
          used_ids.push_back(id);
          const int s = static_cast<int>(fleet.slices.size());
          fleet.slices.push_back(Slice{g, id, table[p]});
          gpu.slices.push_back(s);
          gpu.units.push_back(static_cast<int>(fleet.units.size()));
          fleet.units.push_back(Unit{g, s, table[p].compute_slices});
        }
      } else {
        gpu.units.push_back(static_cast<int>(fleet.units.size()));
        fleet.units.push_back(Unit{g, -1, 7});
      }
      node.gpus.push_back(g);
      fleet.gpus.push_back(std::move(gpu));
    }
    fleet.clusters[c].nodes.push_back(node_index);
    fleet.nodes.push_back(std::move(node));
  }
  return fleet;
}

Result<int> FindHub(const Fleet& fleet, std::string_view name) {
  for (int h = 0; h < static_cast<int>(fleet.hubs.size()); ++h) {
    if (fleet.hubs[h].name == name) return h;
  }
  return Fail(ErrorCode::kNotFound, fmt::format("hub \"{}\" is not simulated", name));
}

std::string ProjectKey(const Fleet& fleet, int project) {
  const Project& p = fleet.projects[project];
  const Cluster& c = fleet.clusters[p.cluster];
  return fmt::format("HUB-{}-CLUSTER-{}-PROJECT-{}", fleet.hubs[c.hub].name, c.name, p.ns);
}

}  // namespace aitelemetry::sim
