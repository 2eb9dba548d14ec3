#include "collect/mapper.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/utf8.h"

namespace aitelemetry::collect {
namespace {

// The labels the mapper reads. kNone (0) marks every other label name.
enum LabelKey : uint8_t {
  kNone,
  kCluster,
  kHostnameOld,  // Hostname
  kHostname,     // hostname
  kUuid,
  kGpuIndex,
  kModelName,
  kPciBusId,
  kGpuIId,
  kGpuIProfile,
  kDriver,     // DCGM_FI_DRIVER_VERSION
  kDriverV49,  // DCGM_FI_SYSTEM_DRIVER_VERSION
  kNamespace,
  kExportedNamespace,
  kPodNamespace,
  kPod,
  kExportedPod,
  kPodName,
  kContainer,
  kExportedContainer,
  kContainerName,
  kErrCode,
  kNode,
  kExportedNode,
  kGpuProduct,
  kMigStrategy,
  kGpuMemory,
  kResource,
  kLabelKeyCount,
};

constexpr std::array<std::pair<std::string_view, LabelKey>, kLabelKeyCount - 1> kLabelNames = {{
    {"cluster", kCluster},
    {"Hostname", kHostnameOld},
    {"hostname", kHostname},
    {"UUID", kUuid},
    {"gpu", kGpuIndex},
    {"modelName", kModelName},
    {"pci_bus_id", kPciBusId},
    {"GPU_I_ID", kGpuIId},
    {"GPU_I_PROFILE", kGpuIProfile},
    {"DCGM_FI_DRIVER_VERSION", kDriver},
    {"DCGM_FI_SYSTEM_DRIVER_VERSION", kDriverV49},
    {"namespace", kNamespace},
    {"exported_namespace", kExportedNamespace},
    {"pod_namespace", kPodNamespace},
    {"pod", kPod},
    {"exported_pod", kExportedPod},
    {"pod_name", kPodName},
    {"container", kContainer},
    {"exported_container", kExportedContainer},
    {"container_name", kContainerName},
    {"err_code", kErrCode},
    {"node", kNode},
    {"exported_node", kExportedNode},
    {"label_nvidia_com_gpu_product", kGpuProduct},
    {"label_nvidia_com_mig_strategy", kMigStrategy},
    {"label_nvidia_com_gpu_memory", kGpuMemory},
    {"resource", kResource},
}};

// A perfect hash of the names above by their length and end bytes, checked at compile time, so
// that a streamed label name is classified with one table read and at most one comparison.
constexpr size_t kLabelSlots = 64;
constexpr size_t LabelSlot(std::string_view name) {
  return (name.size() + static_cast<unsigned char>(name.front()) * 27u +
          static_cast<unsigned char>(name.back()) * 15u) %
         kLabelSlots;
}
constexpr std::array<uint8_t, kLabelSlots> kLabelTable = [] {
  std::array<uint8_t, kLabelSlots> t{};  // index into kLabelNames + 1; 0 = no name
  for (size_t i = 0; i < kLabelNames.size(); ++i) t[LabelSlot(kLabelNames[i].first)] = i + 1;
  return t;
}();
static_assert(
    [] {
      for (size_t i = 0; i < kLabelNames.size(); ++i) {
        if (kLabelTable[LabelSlot(kLabelNames[i].first)] != i + 1) return false;
      }
      return true;
    }(),
    "two label names share a slot: change LabelSlot's multipliers");

// Compares short strings without a call to memcmp: eight bytes at a time, then the tail.
bool SameShortText(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    uint64_t x = 0, y = 0;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) return false;
  }
  for (; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

LabelKey KeyOfLabel(std::string_view name) {
  if (name.empty()) return kNone;
  uint8_t entry = kLabelTable[LabelSlot(name)];
  if (entry == 0) return kNone;
  const auto& [known, key] = kLabelNames[entry - 1];
  return SameShortText(name, known) ? key : kNone;
}

constexpr size_t kMaxMetricClasses = 64;

std::string_view FirstOf(const std::string_view* v, std::initializer_list<LabelKey> keys) {
  for (LabelKey k : keys) {
    if (!v[k].empty()) return v[k];
  }
  return {};
}

std::optional<double> ParseNumber(std::string_view s) {
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

void AddHolder(std::vector<Holder>& holders, std::string_view ns, std::string_view pod,
               std::string_view container) {
  for (const Holder& h : holders) {
    if (h.pod == pod && h.ns == ns && h.container == container) return;
  }
  holders.push_back(Holder{std::string(ns), std::string(pod), std::string(container)});
}

void SetReading(DeviceReadings& r, Signal s, double v) {
  double& slot = r.values[static_cast<int>(s)];
  if (std::isnan(slot)) slot = v;
}

}  // namespace

Mapper::Mapper(std::string hub, std::string default_cluster)
    : default_cluster_(std::move(default_cluster)) {
  snap_.hub = std::move(hub);
}

uint32_t Mapper::ClusterIndex(std::string_view name) {
  if (auto it = clusters_.find(name); it != clusters_.end()) return it->second;
  auto index = static_cast<uint32_t>(snap_.clusters.size());
  snap_.clusters.push_back(ClusterEntry{std::string(name)});
  clusters_.emplace(std::string(name), index);
  return index;
}

uint32_t Mapper::NodeIndex(uint32_t cluster, std::string_view host) {
  std::string key = std::to_string(cluster);
  key.push_back('/');
  key.append(host);
  if (auto it = nodes_.find(key); it != nodes_.end()) return it->second;
  auto index = static_cast<uint32_t>(snap_.nodes.size());
  NodeEntry node;
  node.cluster = cluster;
  node.name = std::string(host);
  snap_.nodes.push_back(std::move(node));
  nodes_.emplace(std::move(key), index);
  return index;
}

void Mapper::AddProject(uint32_t cluster, std::string_view ns) {
  // Consecutive series mostly name the same project: skip the lookup then.
  if (!snap_.projects.empty()) {
    const ProjectEntry& last = snap_.projects[last_project_];
    if (last.cluster == cluster && last.ns == ns) return;
  }
  std::string& key = key_scratch_;
  char digits[16];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), cluster);
  key.assign(digits, end);
  key.push_back('/');
  key.append(ns);
  if (auto it = projects_.find(key); it != projects_.end()) {
    last_project_ = it->second;
    return;
  }
  last_project_ = static_cast<uint32_t>(snap_.projects.size());
  projects_.emplace(key, last_project_);
  snap_.projects.push_back(ProjectEntry{cluster, std::string(ns)});
}

const MetricInfo& Mapper::ClassOf(std::string_view metric) {
  if (last_metric_class_ < metric_classes_.size() &&
      metric_classes_[last_metric_class_].name == metric) {
    return metric_classes_[last_metric_class_].info;
  }
  for (size_t i = 0; i < metric_classes_.size(); ++i) {
    if (metric_classes_[i].name == metric) {
      last_metric_class_ = i;
      return metric_classes_[i].info;
    }
  }
  if (metric_classes_.size() >= kMaxMetricClasses) {  // an answer of many names: do not grow
    uncached_class_ = ClassifyMetric(metric);
    return uncached_class_;
  }
  metric_classes_.push_back(MetricClass{std::string(metric), ClassifyMetric(metric)});
  last_metric_class_ = metric_classes_.size() - 1;
  return metric_classes_.back().info;
}

void Mapper::AddSeries(std::string_view metric, std::span<const SeriesLabel> labels, double value) {
  ++snap_.series;
  const MetricInfo& info = ClassOf(metric);
  if (info.signal == Signal::kUnknown) return;  // a series the collector does not read
  std::array<std::string_view, kLabelKeyCount> v{};
  for (const SeriesLabel& l : labels) {
    LabelKey k = KeyOfLabel(l.name);
    if (k != kNone) v[k] = l.value;
  }
  MapSample(info, v.data(), value, nullptr);
}

uint32_t Mapper::GpuOf(std::string_view uuid) {
  // Every family's answer lists the GPUs in the same order (Prometheus sorts series by their
  // labels), and MIG instances repeat their GPU: try the last GPU and the next before hashing.
  for (uint32_t g : {last_gpu_, last_gpu_ + 1}) {
    if (g < snap_.gpus.size() && snap_.gpus[g].uuid == uuid) return g;
  }
  return gpus_.Find(uuid).value_or(UINT32_MAX);
}

Mapper::AnswerSink::AnswerSink(Mapper* mapper)
    : mapper_(mapper),
      series_at_start_(mapper->snap_.series),
      unmapped_at_start_(mapper->snap_.unmapped_series) {}

Status Mapper::AnswerSink::OnSeries(const SeriesView& series) {
  for (const SeriesPoint& p : series.points) {
    mapper_->AddSeries(series.metric, series.labels, p.value);
  }
  return Ok();
}

void Mapper::AnswerSink::Restart() {
  mapper_->snap_.series = series_at_start_;
  mapper_->snap_.unmapped_series = unmapped_at_start_;
}

void Mapper::AddImpl(const SampleSet& set, const std::span<const uint32_t>* indices) {
  // Resolve the label names and the metric names of this set once.
  std::vector<uint8_t> key_of(set.string_count(), kNone);
  for (const auto& [name, key] : kLabelNames) {
    if (auto id = set.FindString(name)) key_of[*id] = key;
  }
  std::vector<MetricInfo> metric_of;  // by StringId, filled lazily
  std::vector<uint8_t> metric_known(set.string_count(), 0);
  metric_of.resize(set.string_count());
  // GPU index by the UUID's StringId in this set; UINT32_MAX = not yet looked up.
  std::vector<uint32_t> gpu_of(set.string_count(), UINT32_MAX);

  std::array<std::string_view, kLabelKeyCount> v;
  const auto& samples = set.samples();
  const size_t n = indices ? indices->size() : samples.size();
  for (size_t i = 0; i < n; ++i) {
    const Sample& s = samples[indices ? (*indices)[i] : i];
    ++snap_.series;
    if (!metric_known[s.metric]) {
      metric_of[s.metric] = ClassifyMetric(set.String(s.metric));
      metric_known[s.metric] = 1;
    }
    const MetricInfo& info = metric_of[s.metric];
    if (info.signal == Signal::kUnknown) continue;  // a series the collector does not read
    v.fill({});
    StringId uuid_id = kEmptyString;
    for (const LabelPair& p : set.Labels(s)) {
      uint8_t k = key_of[p.name];
      if (k == kNone) continue;
      v[k] = set.String(p.value);
      if (k == kUuid) uuid_id = p.value;
    }
    MapSample(info, v.data(), s.value, uuid_id == kEmptyString ? nullptr : &gpu_of[uuid_id]);
  }
}

void Mapper::MapSample(const MetricInfo& info, const std::string_view* v, double value,
                       uint32_t* cached_gpu) {
  std::string_view cluster_name = v[kCluster].empty() ? default_cluster_ : v[kCluster];

  if (info.signal == Signal::kKubeNodeLabels) {
    std::string_view node = FirstOf(v, {kNode, kExportedNode});
    if (node.empty()) return;
    std::string& key = key_scratch_;
    key.assign(cluster_name);
    key.push_back('/');
    key.append(node);
    auto it = node_facts_.find(key);
    if (it == node_facts_.end()) it = node_facts_.emplace(key, NodeFacts{}).first;
    NodeFacts& f = it->second;
    if (!v[kGpuProduct].empty()) f.gpu_product = std::string(v[kGpuProduct]);
    if (!v[kMigStrategy].empty()) f.mig_strategy = std::string(v[kMigStrategy]);
    if (auto mem = ParseNumber(v[kGpuMemory])) f.gpu_memory_mib = *mem;
    return;
  }
  if (info.signal == Signal::kKubeResourceRequests) {
    if (!v[kResource].starts_with("nvidia_com_")) return;
    std::string_view ns = FirstOf(v, {kNamespace, kExportedNamespace});
    if (ns.empty() || !std::isfinite(value) || value <= 0) return;
    AddProject(ClusterIndex(cluster_name), ns);
    return;
  }

  // A DCGM series.
  if (v[kUuid].empty()) {
    ++snap_.unmapped_series;
    return;
  }
  uint32_t g = cached_gpu != nullptr ? *cached_gpu : UINT32_MAX;
  if (g == UINT32_MAX) {
    g = GpuOf(v[kUuid]);
    if (g == UINT32_MAX) {
      std::string_view host = FirstOf(v, {kHostname, kHostnameOld});
      if (host.empty()) {
        ++snap_.unmapped_series;
        return;
      }
      uint32_t cluster = ClusterIndex(cluster_name);
      uint32_t node = NodeIndex(cluster, host);
      g = static_cast<uint32_t>(snap_.gpus.size());
      GpuEntry gpu;
      gpu.node = node;
      gpu.uuid = std::string(v[kUuid]);
      snap_.gpus.push_back(std::move(gpu));
      gpus_.Insert(v[kUuid], g);
      ++snap_.nodes[node].gpu_count;
    }
    if (cached_gpu != nullptr) *cached_gpu = g;
  }
  last_gpu_ = g;
  GpuEntry& gpu = snap_.gpus[g];
  if (gpu.index.empty() && !v[kGpuIndex].empty()) gpu.index = std::string(v[kGpuIndex]);
  if (gpu.model_name.empty() && !v[kModelName].empty()) {
    gpu.model_name = std::string(v[kModelName]);
  }
  if (gpu.pci_bus_id.empty() && !v[kPciBusId].empty()) {
    gpu.pci_bus_id = std::string(v[kPciBusId]);
  }
  const bool v49 = !v[kDriverV49].empty();
  if (gpu.driver_version.empty()) {
    std::string_view d = v49 ? v[kDriverV49] : v[kDriver];
    if (!d.empty()) gpu.driver_version = std::string(d);
  }

  // The unit: the GPU, or a MIG instance of it.
  DeviceReadings* unit_readings = &gpu.readings;
  std::vector<Holder>* holders = &gpu.holders;
  if (!v[kGpuIId].empty()) {
    uint32_t slice = UINT32_MAX;
    for (uint32_t si : gpu.slices) {
      if (snap_.slices[si].gpu_i_id == v[kGpuIId]) {
        slice = si;
        break;
      }
    }
    if (slice == UINT32_MAX) {
      slice = static_cast<uint32_t>(snap_.slices.size());
      SliceEntry e;
      e.gpu = g;
      e.gpu_i_id = std::string(v[kGpuIId]);
      e.profile = std::string(v[kGpuIProfile]);
      e.compute_share = ComputeShareOfProfile(e.profile);
      snap_.slices.push_back(std::move(e));
      snap_.gpus[g].slices.push_back(slice);
    }
    SliceEntry& e = snap_.slices[slice];
    if (e.profile.empty() && !v[kGpuIProfile].empty()) {
      e.profile = std::string(v[kGpuIProfile]);
      e.compute_share = ComputeShareOfProfile(e.profile);
    }
    if (!IsDeviceWide(info.signal)) unit_readings = &e.readings;
    holders = &e.holders;
  }
  std::string_view ns = FirstOf(v, {kNamespace, kExportedNamespace, kPodNamespace});
  std::string_view pod = FirstOf(v, {kPod, kExportedPod, kPodName});
  if (!ns.empty() && !pod.empty()) {
    std::string_view container = FirstOf(v, {kContainer, kExportedContainer, kContainerName});
    AddHolder(*holders, ns, pod, container);
    AddProject(snap_.nodes[gpu.node].cluster, ns);
  }

  if (info.signal == Signal::kXid && !v[kErrCode].empty()) {
    if (auto code = ParseNumber(v[kErrCode])) value = *code;
  }
  if (!std::isfinite(value)) return;
  value *= v49 ? info.v49_scale : info.legacy_scale;
  SetReading(*unit_readings, info.signal, value);
}

void Mapper::Reserve(size_t nodes, size_t gpus, size_t slices) {
  snap_.nodes.reserve(nodes);
  snap_.gpus.reserve(gpus);
  snap_.slices.reserve(slices);
}

namespace {

// Label values are bytes from exporters; everything the store keeps must serialise to JSON, so
// each text is made valid UTF-8 here, once, before any row or key is built from it.
size_t MakeSnapshotTextValid(Snapshot& s) {
  size_t repaired = 0;
  auto fix = [&repaired](std::string& text) { repaired += MakeValidUtf8(&text) ? 1 : 0; };
  auto fix_holders = [&fix](std::vector<Holder>& holders) {
    for (Holder& h : holders) {
      fix(h.ns);
      fix(h.pod);
      fix(h.container);
    }
  };
  for (ClusterEntry& c : s.clusters) fix(c.name);
  for (NodeEntry& n : s.nodes) {
    fix(n.name);
    fix(n.gpu_product);
    fix(n.mig_strategy);
  }
  for (GpuEntry& g : s.gpus) {
    fix(g.uuid);
    fix(g.index);
    fix(g.model_name);
    fix(g.driver_version);
    fix(g.pci_bus_id);
    fix_holders(g.holders);
  }
  for (SliceEntry& sl : s.slices) {
    fix(sl.gpu_i_id);
    fix(sl.profile);
    fix_holders(sl.holders);
  }
  for (ProjectEntry& p : s.projects) fix(p.ns);
  return repaired;
}

}  // namespace

void Mapper::MarkUnreachable(std::string_view cluster, std::string_view node, std::string error) {
  snap_.unreachable.push_back({std::string(cluster.empty() ? default_cluster_ : cluster),
                               std::string(node), std::move(error)});
}

Snapshot Mapper::Finish() {
  for (NodeEntry& node : snap_.nodes) {
    std::string key = snap_.clusters[node.cluster].name;
    key.push_back('/');
    key.append(node.name);
    if (auto it = node_facts_.find(key); it != node_facts_.end()) {
      node.gpu_product = it->second.gpu_product;
      node.mig_strategy = it->second.mig_strategy;
      node.gpu_memory_mib = it->second.gpu_memory_mib;
    }
  }
  if (size_t n = MakeSnapshotTextValid(snap_); n > 0) {
    spdlog::warn("collect: hub {}: {} label value(s) were not UTF-8; invalid bytes replaced",
                 snap_.hub, n);
  }
  Snapshot out = std::move(snap_);
  snap_ = Snapshot{};
  snap_.hub = out.hub;
  clusters_.clear();
  nodes_.clear();
  gpus_.Clear();
  last_gpu_ = 0;
  last_project_ = 0;
  projects_.clear();
  node_facts_.clear();
  return out;
}

}  // namespace aitelemetry::collect
