// Snapshot: the entities one hub's series describe at one instant, as the mapper builds them
// from SampleSets. Plain data with owning strings, so it outlives the SampleSets it came from.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "collect/metric_catalog.h"
#include "core/time.h"
#include "model/registry.h"

namespace aitelemetry::collect {

inline constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

// Readings of one unit in canonical units (see Signal); NaN means unknown (never zero).
struct DeviceReadings {
  std::array<double, kReadingCount> values;
  DeviceReadings() { values.fill(kUnknown); }
  double Get(Signal s) const { return values[static_cast<int>(s)]; }
  bool Has(Signal s) const { return !std::isnan(Get(s)); }
};

// A pod/container of a project that a series names as the user of a unit.
struct Holder {
  std::string ns;
  std::string pod;
  std::string container;
  bool operator==(const Holder&) const = default;
};

struct ClusterEntry {
  std::string name;
};

struct NodeEntry {
  uint32_t cluster = 0;
  std::string name;
  std::string gpu_product;           // kube_node_labels label_nvidia_com_gpu_product; "" unknown
  std::string mig_strategy;          // label_nvidia_com_mig_strategy; "" unknown
  double gpu_memory_mib = kUnknown;  // label_nvidia_com_gpu_memory
  int gpu_count = 0;
};

struct GpuEntry {
  uint32_t node = 0;
  std::string uuid;
  std::string index;  // the `gpu` label
  std::string model_name;
  std::string driver_version;
  std::string pci_bus_id;
  DeviceReadings readings;  // a MIG parent has only the device-wide ones
  std::vector<Holder> holders;
  std::vector<uint32_t> slices;  // indices into Snapshot::slices
  bool mig() const { return !slices.empty(); }
};

struct SliceEntry {
  uint32_t gpu = 0;
  std::string gpu_i_id;
  std::string profile;
  double compute_share = kUnknown;  // N/7 from the profile
  DeviceReadings readings;          // per-instance readings only
  std::vector<Holder> holders;
};

struct ProjectEntry {
  uint32_t cluster = 0;
  std::string ns;
};

// A node whose exporter could not be scraped this time: its devices are not in the snapshot, but
// they are not gone either (they are marked stale and their time is unobserved).
struct UnreachableNode {
  std::string cluster;  // resolved: the mapper's default cluster when the target named none
  std::string node;
  std::string error;  // why, naming the target (credentials masked)
};

struct Snapshot {
  std::string hub;
  std::vector<ClusterEntry> clusters;
  std::vector<NodeEntry> nodes;
  std::vector<GpuEntry> gpus;
  std::vector<SliceEntry> slices;
  std::vector<ProjectEntry> projects;
  size_t series = 0;           // samples read
  size_t unmapped_series = 0;  // DCGM samples without a UUID or a host name
  // The hub's sample spacing the sync used, in seconds (NaN: not known), and whether it was
  // assumed rather than worked out from sample timestamps. Set by the syncer, not the mapper.
  double spacing_seconds = kUnknown;
  bool spacing_assumed = false;
  // Nodes whose exporter failed this time (exporter hubs only); empty when every target answered.
  std::vector<UnreachableNode> unreachable;
};

// The activity of a unit: GR_ENGINE_ACTIVE, else GPU_UTIL (whole GPUs only), else NaN.
inline double Activity(const DeviceReadings& r) {
  if (r.Has(Signal::kGrEngineActive)) return r.Get(Signal::kGrEngineActive);
  return r.Get(Signal::kGpuUtil);
}

// Memory total of a unit in bytes: FB_USED + FB_FREE (+ FB_RESERVED when present); NaN unless
// both used and free are known.
inline double MemoryTotalBytes(const DeviceReadings& r) {
  if (!r.Has(Signal::kFbUsed) || !r.Has(Signal::kFbFree)) return kUnknown;
  double total = r.Get(Signal::kFbUsed) + r.Get(Signal::kFbFree);
  if (r.Has(Signal::kFbReserved)) total += r.Get(Signal::kFbReserved);
  return total;
}

// Natural keys of a snapshot's entities (model/registry.h conventions).
inline std::string ClusterKeyOf(const Snapshot& s, uint32_t cluster) {
  return model::ClusterKey(s.hub, s.clusters[cluster].name);
}
inline std::string NodeKeyOf(const Snapshot& s, uint32_t node) {
  const NodeEntry& n = s.nodes[node];
  return model::NodeKey(s.hub, s.clusters[n.cluster].name, n.name);
}
inline std::string GpuKeyOf(const Snapshot& s, uint32_t gpu) {
  const GpuEntry& g = s.gpus[gpu];
  const NodeEntry& n = s.nodes[g.node];
  return model::GpuKey(s.hub, s.clusters[n.cluster].name, n.name, g.uuid);
}
inline std::string SliceKeyOf(const Snapshot& s, uint32_t slice) {
  return model::SliceKey(GpuKeyOf(s, s.slices[slice].gpu), s.slices[slice].gpu_i_id);
}

}  // namespace aitelemetry::collect
