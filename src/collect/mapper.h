// Mapper: turns the samples of one hub at one instant (Prometheus answers or scrapes) into a
// Snapshot of clusters, nodes, GPUs, MIG slices, projects and their holders.
//
// Built for 1.7 M series. From a SampleSet: label names are resolved to ids once per set, each
// sample's labels are read in one pass over its id pairs, and a GPU is found by its UUID's
// StringId (hashed once per set). From a stream (AddSeries, AnswerSink): each label name is
// classified by a perfect hash of its length and end bytes, the metric's class is cached by name,
// and a GPU is found by one hash lookup of its UUID; nothing is copied but what the Snapshot keeps.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collect/sample_set.h"
#include "collect/series_sink.h"
#include "collect/snapshot.h"
#include "collect/string_index.h"

namespace aitelemetry::collect {

class Mapper {
 public:
  // `default_cluster` names the cluster of series without a `cluster` label.
  Mapper(std::string hub, std::string default_cluster);

  // Room for this many nodes, GPUs and slices (a hint: the previous snapshot's counts), so that
  // the snapshot's arrays are neither copied while they grow nor left up to half empty.
  void Reserve(size_t nodes, size_t gpus, size_t slices);

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

  // The fused path for streamed answers: reads one sample (a series' metric name, labels and one
  // value) by the rules of Add, so that the same samples in the same order give the same
  // Snapshot either way. Requires: label names are distinct (the parsers check this); a label
  // with an empty value counts as absent.
  void AddSeries(std::string_view metric, std::span<const SeriesLabel> labels, double value);

  // A SeriesSink that feeds each series of one answer to AddSeries (once per point) as the
  // parser delivers it. Re-delivering series is harmless except for the counts: first values
  // win, and GPUs, slices, holders, projects and node facts are found before they are added, so
  // an identical answer mapped twice maps as once. Restart() therefore only takes back the
  // `series` and `unmapped_series` counted since this sink was made (or last restarted), which
  // keeps them exact when a failed transfer is retried. Requires: the mapper outlives the sink.
  class AnswerSink final : public SeriesSink {
   public:
    explicit AnswerSink(Mapper* mapper);
    Status OnSeries(const SeriesView& series) override;
    void Restart() override;

   private:
    Mapper* mapper_;
    size_t series_at_start_;
    size_t unmapped_at_start_;
  };

  // Records that node `node` of cluster `cluster` (empty: the default cluster) could not be read
  // this time (its exporter failed with `error`): Finish() lists it in Snapshot::unreachable.
  void MarkUnreachable(std::string_view cluster, std::string_view node, std::string error);

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

  struct MetricClass {
    std::string name;
    MetricInfo info;
  };

  void AddImpl(const SampleSet& set, const std::span<const uint32_t>* indices);
  // Maps one sample whose labels the mapper reads are `v` (indexed by the .cc's LabelKey).
  // `cached_gpu`, when not null, holds the GPU of the sample's UUID or UINT32_MAX, and is filled
  // in once the GPU is known.
  void MapSample(const MetricInfo& info, const std::string_view* v, double value,
                 uint32_t* cached_gpu);
  // Returns the index of the GPU with `uuid`, or UINT32_MAX.
  uint32_t GpuOf(std::string_view uuid);
  // Returns the class of `metric`, from a small cache of the names seen.
  const MetricInfo& ClassOf(std::string_view metric);
  uint32_t ClusterIndex(std::string_view name);
  uint32_t NodeIndex(uint32_t cluster, std::string_view host);
  void AddProject(uint32_t cluster, std::string_view ns);

  std::string default_cluster_;
  Snapshot snap_;
  Index clusters_;
  Index nodes_;                // cluster index + '/' + host
  StringIndex gpus_;           // UUID
  uint32_t last_gpu_ = 0;      // the GPU of the last streamed series: answers list GPUs in order
  Index projects_;             // cluster index + '/' + namespace
  uint32_t last_project_ = 0;  // the project AddProject found or added last
  std::unordered_map<std::string, NodeFacts, StringHash, std::equal_to<>> node_facts_;
  std::string key_scratch_;                  // for index lookups without an allocation per sample
  std::vector<MetricClass> metric_classes_;  // ClassOf's cache, at most kMaxMetricClasses
  size_t last_metric_class_ = 0;
  MetricInfo uncached_class_;
};

}  // namespace aitelemetry::collect
