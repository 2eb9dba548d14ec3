// Mapper: turns the samples of one hub at one instant (Prometheus answers or scrapes) into a
// Snapshot of clusters, nodes, GPUs, MIG slices, projects and their holders.
//
// Built for 1.2 M series: each SampleSet's label names are resolved to ids once, each sample's
// labels are read in one pass over its id pairs, and a GPU is found by its UUID's StringId
// (hashed once per set), not by string per sample.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collect/sample_set.h"
#include "collect/snapshot.h"

namespace aitelemetry::collect {

class Mapper {
 public:
  // `default_cluster` names the cluster of series without a `cluster` label.
  Mapper(std::string hub, std::string default_cluster);

  // Reads every sample of `set`. Rules:
  //  - DCGM series need a UUID; the unit is the GPU, or the MIG instance when GPU_I_ID is set.
  //    Readings are scaled to canonical units by the metric catalog; NaN and infinite values
  //    are ignored (unknown, not zero); with duplicate series the first finite value wins.
  //  - Device-wide readings (power, energy, temperature, clock, XID, remapped rows) of a MIG
  //    instance series go to its parent GPU.
  //  - Workload labels (namespace|exported_namespace|pod_namespace, pod|exported_pod|pod_name,
  //    container|exported_container|container_name) make a holder of the unit; several pods on
  //    one time-sliced GPU make several holders of one GPU.
  //  - kube_node_labels fills node facts; kube_pod_container_resource_requests for nvidia_com_*
  //    resources adds projects.
  void Add(const SampleSet& set) { AddImpl(set, nullptr); }
  // As Add, for only the samples at `indices` (for one instant of a range answer).
  void AddSamples(const SampleSet& set, std::span<const uint32_t> indices) {
    AddImpl(set, &indices);
  }

  // Returns the snapshot built so far and resets the mapper.
  Snapshot Finish();

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;
  struct NodeFacts {
    std::string gpu_product, mig_strategy;
    double gpu_memory_mib = kUnknown;
  };

  void AddImpl(const SampleSet& set, const std::span<const uint32_t>* indices);
  uint32_t ClusterIndex(std::string_view name);
  uint32_t NodeIndex(uint32_t cluster, std::string_view host);
  void AddProject(uint32_t cluster, std::string_view ns);

  std::string default_cluster_;
  Snapshot snap_;
  Index clusters_;
  Index nodes_;     // cluster index + '/' + host
  Index gpus_;      // UUID
  Index projects_;  // cluster index + '/' + namespace
  std::unordered_map<std::string, NodeFacts, StringHash, std::equal_to<>> node_facts_;
};

}  // namespace aitelemetry::collect
