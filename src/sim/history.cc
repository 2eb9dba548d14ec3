#include "sim/history.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/series.h"
#include "sim/workload.h"

namespace aitelemetry::sim {
namespace {

constexpr int64_t kMaxSamplesPerSeries = 100'000;
constexpr size_t kFlushBytes = 1 << 20;

// One series being collected: its label text (without braces' closing) and "value ts\n" lines.
struct Series {
  std::string labels;
  std::string samples;
};

// Finds the series with these labels among `series`, adding it when new. The few label sets of a
// unit (free, then one per holding pod) make a linear search the cheapest.
Series& SeriesFor(std::vector<Series>& series, const std::string& labels) {
  for (Series& s : series) {
    if (s.labels == labels) return s;
  }
  series.push_back(Series{labels, {}});
  return series.back();
}

// Appends an OpenMetrics timestamp: seconds, with a fraction only when needed.
void AppendTimestamp(Timestamp t, std::string* out) {
  const int64_t ns = t.time_since_epoch().count();
  AppendInt(ns / 1'000'000'000, out);
  const int64_t frac = ns % 1'000'000'000;
  if (frac != 0) out->append(fmt::format(".{:09d}", frac));
}

class Writer {
 public:
  explicit Writer(std::ostream& out) : out_(out) { buffer_.reserve(2 * kFlushBytes); }
  std::string* buffer() { return &buffer_; }
  void MaybeFlush() {
    if (buffer_.size() >= kFlushBytes) Flush();
  }
  void Flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }
  bool ok() const { return static_cast<bool>(out_); }

 private:
  std::ostream& out_;
  std::string buffer_;
};

void AppendHeader(std::string_view name, std::string_view type, std::string_view help,
                  std::string* out) {
  out->append("# TYPE ");
  out->append(name);
  out->push_back(' ');
  out->append(type);
  out->append("\n# HELP ");
  out->append(name);
  out->push_back(' ');
  out->append(help);
  out->push_back('\n');
}

void FlushSeries(std::string_view name, const std::vector<Series>& series, std::string* out) {
  for (const Series& s : series) {
    size_t begin = 0;
    while (begin < s.samples.size()) {
      const size_t end = s.samples.find('\n', begin);
      out->append(name);
      out->push_back('{');
      out->append(s.labels);
      out->append("} ");
      out->append(std::string_view(s.samples).substr(begin, end + 1 - begin));
      begin = end + 1;
    }
  }
}

std::string ClusterLabel(const Fleet& fleet, int cluster) {
  std::string text;
  AppendLabel("cluster", fleet.clusters[cluster].name, &text);
  return text;
}

void WriteDcgm(const Fleet& fleet, const std::vector<Timestamp>& times, Writer& w) {
  std::vector<std::string> device_labels(fleet.units.size());
  for (size_t u = 0; u < fleet.units.size(); ++u) {
    AppendDeviceLabels(fleet, static_cast<int>(u), &device_labels[u]);
  }
  std::vector<std::string> cluster_labels;
  for (size_t c = 0; c < fleet.clusters.size(); ++c) {
    cluster_labels.push_back(ClusterLabel(fleet, static_cast<int>(c)));
  }
  std::vector<std::optional<Holding>> holdings;
  std::vector<UnitSignals> signals;
  std::vector<std::vector<Series>> per_unit;
  std::string labels;
  for (int f = 0; f < kDcgmFieldCount; ++f) {
    const auto field = static_cast<DcgmField>(f);
    const FamilyInfo& family = DcgmFamilies()[f];
    // OpenMetrics requires a counter's samples to be named <family>_total; the real exporter's
    // energy series has no such suffix, so the history declares it a gauge to keep the name that
    // live scrapes (and the collector's queries) use. rate() works on it all the same.
    AppendHeader(family.name, field == DcgmField::kTotalEnergy ? "gauge" : family.type, family.help,
                 w.buffer());
    for (int g = 0; g < static_cast<int>(fleet.gpus.size()); ++g) {
      const Gpu& gpu = fleet.gpus[g];
      const int cluster = fleet.nodes[gpu.node].cluster;
      const size_t n = gpu.units.size();
      per_unit.assign(n, {});
      for (Timestamp t : times) {
        const int64_t slot = SlotIndex(fleet, t);
        holdings.resize(n);
        signals.resize(n);
        for (size_t i = 0; i < n; ++i) {
          holdings[i] = HoldingAt(fleet, gpu.units[i], slot);
          signals[i] = UnitSignalsAt(fleet, gpu.units[i], holdings[i], t);
        }
        const GpuSignals gs = GpuSignalsAt(fleet, g, signals.data(), t);
        const double energy =
            field == DcgmField::kTotalEnergy ? EnergyMillijoulesAt(fleet, g, t) : 0.0;
        for (size_t i = 0; i < n; ++i) {
          const int unit = gpu.units[i];
          if (!FieldApplies(field, fleet.units[unit])) continue;
          labels = device_labels[unit];
          if (field == DcgmField::kXidErrors && gs.xid != 0) {
            labels.append(",err_code=\"");
            AppendInt(gs.xid, &labels);
            labels.push_back('"');
          }
          if (holdings[i]) AppendWorkloadLabels(fleet, cluster, *holdings[i], &labels);
          labels.append(cluster_labels[cluster]);
          Series& series = SeriesFor(per_unit[i], labels);
          AppendDcgmValue(field, signals[i], gs, energy, &series.samples);
          series.samples.push_back(' ');
          AppendTimestamp(t, &series.samples);
          series.samples.push_back('\n');
        }
      }
      for (const auto& series : per_unit) FlushSeries(family.name, series, w.buffer());
      w.MaybeFlush();
    }
  }
}

void WriteKube(const Fleet& fleet, const std::vector<Timestamp>& times, Writer& w) {
  AppendHeader("kube_node_labels", "gauge", "Kubernetes labels converted to Prometheus labels.",
               w.buffer());
  for (const Node& node : fleet.nodes) {
    const GpuModel& model = GpuModels()[node.model];
    std::string labels;
    AppendLabel("node", node.name, &labels, /*first=*/true);
    AppendLabel("label_nvidia_com_gpu_product", model.gfd_product, &labels);
    AppendLabel("label_nvidia_com_gpu_memory", std::to_string(model.memory_mib), &labels);
    AppendLabel("label_nvidia_com_mig_strategy", node.any_mig ? "mixed" : "none", &labels);
    labels.append(ClusterLabel(fleet, node.cluster));
    for (Timestamp t : times) {
      std::string* out = w.buffer();
      out->append("kube_node_labels{");
      out->append(labels);
      out->append("} 1 ");
      AppendTimestamp(t, out);
      out->push_back('\n');
    }
    w.MaybeFlush();
  }

  const int64_t first_slot = SlotIndex(fleet, times.front());
  const int64_t end_slot = SlotIndex(fleet, times.back()) + 1;
  // kube_pod_container_resource_requests (pass 0) and kube_pod_status_phase (pass 1): one series
  // per holding, listed at the unit (a gang pod at its node's first GPU).
  for (int pass = 0; pass < 2; ++pass) {
    const std::string_view name =
        pass == 0 ? "kube_pod_container_resource_requests" : "kube_pod_status_phase";
    AppendHeader(name, "gauge",
                 pass == 0 ? "The number of requested request resource by a container."
                           : "The pods current phase.",
                 w.buffer());
    for (int u = 0; u < static_cast<int>(fleet.units.size()); ++u) {
      const Gpu& gpu = fleet.gpus[fleet.units[u].gpu];
      const int cluster = fleet.nodes[gpu.node].cluster;
      for (const Holding& h : HoldingsBetween(fleet, u, first_slot, end_slot)) {
        if (h.gang && gpu.index != 0) continue;
        std::string labels;
        AppendLabel("namespace", fleet.projects[h.project].ns, &labels, /*first=*/true);
        labels.append(",pod=\"");
        AppendPodName(h, &labels);
        labels.push_back('"');
        if (pass == 0) {
          AppendLabel("container", ContainerName(h.kind), &labels);
          AppendLabel("node", fleet.nodes[gpu.node].name, &labels);
          labels.append(",resource=\"");
          AppendResourceName(fleet, u, &labels);
          labels.append("\",unit=\"integer\"");
        } else {
          labels.append(",phase=\"Running\"");
        }
        labels.append(ClusterLabel(fleet, cluster));
        for (Timestamp t : times) {
          const int64_t slot = SlotIndex(fleet, t);
          if (slot < h.start_slot || slot >= h.end_slot) continue;
          std::string* out = w.buffer();
          out->append(name);
          out->push_back('{');
          out->append(labels);
          out->append("} ");
          AppendInt(pass == 0 ? h.gang_size : 1, out);
          out->push_back(' ');
          AppendTimestamp(t, out);
          out->push_back('\n');
        }
      }
      w.MaybeFlush();
    }
  }
}

}  // namespace

Status WriteHistory(const Fleet& fleet, Timestamp from, Timestamp to, Nanos step,
                    std::ostream& out) {
  if (step <= Nanos::zero()) return Fail(ErrorCode::kInvalidArgument, "history: step must be > 0");
  if (from >= to) return Fail(ErrorCode::kInvalidArgument, "history: from must be before to");
  if ((to - from) / step >= kMaxSamplesPerSeries) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("history: more than {} samples per series; use a larger step",
                            kMaxSamplesPerSeries));
  }
  std::vector<Timestamp> times;
  for (Timestamp t = from; t < to; t += step) times.push_back(t);

  Writer w(out);
  WriteDcgm(fleet, times, w);
  WriteKube(fleet, times, w);
  w.buffer()->append("# EOF\n");
  w.Flush();
  out.flush();
  if (!w.ok()) return Fail(ErrorCode::kUnavailable, "history: writing the output failed");
  return Ok();
}

}  // namespace aitelemetry::sim
