// The simulated fleet: hubs, clusters, nodes, GPUs, MIG slices and projects, built
// deterministically from a seed. Workloads over time live in workload.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace aitelemetry::sim {

// Static facts about one GPU model, as dcgm-exporter and GPU feature discovery report them.
struct GpuModel {
  std::string_view model_name;   // dcgm-exporter `modelName`, e.g. "NVIDIA A100-SXM4-40GB"
  std::string_view gfd_product;  // `label_nvidia_com_gpu_product`, e.g. "NVIDIA-A100-SXM4-40GB"
  int64_t memory_mib;            // FB_USED + FB_FREE of the whole GPU
  int gpus_per_node;             // 8 for SXM boards, 4 for PCIe L40S servers
  double idle_power_watts;       // power with nothing running
  double max_power_watts;        // board power limit
  int idle_sm_clock_mhz;         // SM clock when idle
  int max_sm_clock_mhz;          // SM clock under load
  bool mig_capable;              // A100 and H100 only
  bool mig_80gb_profiles;        // true: 1g.10gb..7g.80gb; false: 1g.5gb..7g.40gb
};

// The five models the simulator uses, indexed by Gpu::model.
const std::vector<GpuModel>& GpuModels();

// One MIG profile: its name, compute slices out of 7 and memory.
struct MigProfile {
  std::string_view name;  // e.g. "3g.40gb"
  int compute_slices;     // 1, 2, 3, 4 or 7
  int64_t memory_mib;     // FB_USED + FB_FREE of the instance
};

struct Hub {
  std::string name;
  std::vector<int> clusters;  // indices into Fleet::clusters
};

struct Cluster {
  int hub = 0;
  std::string name;              // unique across the fleet, so merged histories never collide
  bool old_hostname = false;     // exporter older than 4.8.3: writes `Hostname`, else `hostname`
  bool exported_labels = false;  // scraped with honor_labels=false: `exported_namespace` etc.
  std::string driver_version;    // DCGM_FI_DRIVER_VERSION
  std::vector<int> nodes;        // indices into Fleet::nodes
  std::vector<int> projects;     // indices into Fleet::projects
};

struct Node {
  int cluster = 0;
  std::string name;
  int model = 0;          // index into GpuModels()
  std::vector<int> gpus;  // indices into Fleet::gpus
  bool any_mig = false;   // some GPU on the node has MIG enabled ("mixed" strategy)
  // Allocation epochs: the node's timeline is cut into epochs of epoch_slots slots, shifted by
  // epoch_phase slots; each holding lies inside one epoch (see workload.h).
  int epoch_slots = 12;
  int epoch_phase = 0;
};

struct Gpu {
  int node = 0;
  int index = 0;           // `gpu` label: position on the node
  std::string uuid;        // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
  std::string pci_bus_id;  // "00000000:07:00.0"
  bool mig = false;
  std::vector<int> slices;  // indices into Fleet::slices; empty unless mig
  std::vector<int> units;   // indices into Fleet::units: the GPU itself, or its slices
};

struct Slice {
  int gpu = 0;
  int gpu_i_id = 0;  // `GPU_I_ID`
  MigProfile profile;
};

struct Project {
  int cluster = 0;
  std::string ns;  // the Kubernetes namespace
};

// An allocatable unit: a whole GPU without MIG, or one MIG slice. Workloads hold units.
struct Unit {
  int gpu = 0;
  int slice = -1;            // index into Fleet::slices, or -1 for a whole GPU
  int compute_sevenths = 7;  // GPU-equivalents times 7: 7 for a whole GPU, 3 for a 3g slice
};

struct FleetOptions {
  uint64_t seed = 1;
  // GPUs wanted. Nodes are whole (8 GPUs, or 4 for L40S servers), so the fleet has at least this
  // many and fewer than gpus + 8.
  int gpus = 8;
  // Target share of GPUs with MIG enabled, in [0, 1]. Only A100/H100 GPUs can have MIG, so the
  // real share may fall short of it; 0 disables MIG, 1 enables it on every capable GPU.
  double mig_fraction = 0.2;
  int hubs = 1;                           // 1..64
  Nanos slot = std::chrono::minutes(10);  // allocations change only at multiples of this
};

struct Fleet {
  FleetOptions options;
  std::vector<Hub> hubs;
  std::vector<Cluster> clusters;
  std::vector<Node> nodes;
  std::vector<Gpu> gpus;
  std::vector<Slice> slices;
  std::vector<Project> projects;
  std::vector<Unit> units;
};

// Builds the fleet for `options`. The result depends only on the options (same seed, same fleet,
// on every platform). Each hub gets 1-3 clusters (fewer when there are not enough nodes; a hub
// may then have a cluster without nodes only when hubs exceed nodes), each cluster
// 3-12 projects; nodes go round-robin to clusters. Returns kInvalidArgument when gpus is not in
// [1, 10'000'000], hubs not in [1, 64], mig_fraction not in [0, 1], or slot is not a positive
// whole number of seconds.
[[nodiscard]] Result<Fleet> BuildFleet(const FleetOptions& options);

// Returns the index of the hub named `name`, or kNotFound.
[[nodiscard]] Result<int> FindHub(const Fleet& fleet, std::string_view name);

// The natural key of a project: "HUB-{hub}-CLUSTER-{cluster}-PROJECT-{namespace}".
std::string ProjectKey(const Fleet& fleet, int project);

// The hostname of a node as the exporter reports it (the node name).
inline const std::string& NodeName(const Fleet& fleet, int gpu) {
  return fleet.nodes[fleet.gpus[gpu].node].name;
}

}  // namespace aitelemetry::sim
