#include "sim/exposition.h"

#include <cstdint>
#include <optional>
#include <vector>

#include "sim/series.h"
#include "sim/workload.h"

namespace aitelemetry::sim {
namespace {

// Everything one render needs about one unit, computed once and reused by every family.
struct UnitState {
  int unit = 0;
  int gpu_slot = 0;  // index into Snapshot::gpus
  int cluster = 0;
  std::optional<Holding> holding;
  UnitSignals signals;
};

struct GpuState {
  GpuSignals signals;
  double energy_mj = 0;
};

struct Snapshot {
  std::vector<UnitState> units;
  std::vector<GpuState> gpus;
  // Label text per unit: device labels and workload labels, as [offset, offset + length) ranges
  // into one arena each (no per-unit strings).
  std::string device_arena;
  std::vector<uint32_t> device_offsets;  // units.size() + 1 entries
  std::string workload_arena;
  std::vector<uint32_t> workload_offsets;
  std::vector<std::string> cluster_suffix;  // ",cluster=\"name\"}" per fleet cluster
};

Snapshot TakeSnapshot(const Fleet& fleet, int hub, Timestamp now) {
  Snapshot snap;
  const int64_t slot = SlotIndex(fleet, now);
  std::vector<UnitSignals> gpu_units;
  for (int c : fleet.hubs[hub].clusters) {
    for (int n : fleet.clusters[c].nodes) {
      for (int g : fleet.nodes[n].gpus) {
        const Gpu& gpu = fleet.gpus[g];
        const int gpu_slot = static_cast<int>(snap.gpus.size());
        gpu_units.clear();
        for (int u : gpu.units) {
          UnitState state;
          state.unit = u;
          state.gpu_slot = gpu_slot;
          state.cluster = c;
          state.holding = HoldingAt(fleet, u, slot);
          state.signals = UnitSignalsAt(fleet, u, state.holding, now);
          gpu_units.push_back(state.signals);
          snap.units.push_back(std::move(state));
        }
        snap.gpus.push_back(GpuState{GpuSignalsAt(fleet, g, gpu_units.data(), now),
                                     EnergyMillijoulesAt(fleet, g, now)});
      }
    }
  }
  snap.device_arena.reserve(snap.units.size() * 200);
  snap.workload_arena.reserve(snap.units.size() * 80);
  snap.device_offsets.reserve(snap.units.size() + 1);
  snap.workload_offsets.reserve(snap.units.size() + 1);
  for (const UnitState& state : snap.units) {
    snap.device_offsets.push_back(static_cast<uint32_t>(snap.device_arena.size()));
    AppendDeviceLabels(fleet, state.unit, &snap.device_arena);
    snap.workload_offsets.push_back(static_cast<uint32_t>(snap.workload_arena.size()));
    if (state.holding)
      AppendWorkloadLabels(fleet, state.cluster, *state.holding, &snap.workload_arena);
  }
  snap.device_offsets.push_back(static_cast<uint32_t>(snap.device_arena.size()));
  snap.workload_offsets.push_back(static_cast<uint32_t>(snap.workload_arena.size()));
  for (const Cluster& cluster : fleet.clusters) {
    std::string suffix;
    AppendLabel("cluster", cluster.name, &suffix);
    suffix.push_back('}');
    snap.cluster_suffix.push_back(std::move(suffix));
  }
  return snap;
}

void AppendHeader(std::string_view name, std::string_view type, std::string_view help,
                  std::string* out) {
  out->append("# HELP ");
  out->append(name);
  out->push_back(' ');
  out->append(help);
  out->append("\n# TYPE ");
  out->append(name);
  out->push_back(' ');
  out->append(type);
  out->push_back('\n');
}

std::string_view Range(const std::string& arena, const std::vector<uint32_t>& offsets, size_t i) {
  return std::string_view(arena).substr(offsets[i], offsets[i + 1] - offsets[i]);
}

void AppendDcgm(const Fleet& fleet, const Snapshot& snap, std::string* out) {
  for (int f = 0; f < kDcgmFieldCount; ++f) {
    const auto field = static_cast<DcgmField>(f);
    const FamilyInfo& family = DcgmFamilies()[f];
    AppendHeader(family.name, family.type, family.help, out);
    for (size_t i = 0; i < snap.units.size(); ++i) {
      const UnitState& state = snap.units[i];
      if (!FieldApplies(field, fleet.units[state.unit])) continue;
      const GpuState& gpu = snap.gpus[state.gpu_slot];
      out->append(family.name);
      out->push_back('{');
      out->append(Range(snap.device_arena, snap.device_offsets, i));
      if (field == DcgmField::kXidErrors && gpu.signals.xid != 0) {
        out->append(",err_code=\"");
        AppendInt(gpu.signals.xid, out);
        out->push_back('"');
      }
      out->append(Range(snap.workload_arena, snap.workload_offsets, i));
      out->append(snap.cluster_suffix[state.cluster]);
      out->push_back(' ');
      AppendDcgmValue(field, state.signals, gpu.signals, gpu.energy_mj, out);
      out->push_back('\n');
    }
  }
}

void AppendKube(const Fleet& fleet, int hub, const Snapshot& snap, std::string* out) {
  AppendHeader("kube_node_labels", "gauge", "Kubernetes labels converted to Prometheus labels.",
               out);
  for (int c : fleet.hubs[hub].clusters) {
    for (int n : fleet.clusters[c].nodes) {
      const Node& node = fleet.nodes[n];
      const GpuModel& model = GpuModels()[node.model];
      out->append("kube_node_labels{");
      AppendLabel("node", node.name, out, /*first=*/true);
      AppendLabel("label_nvidia_com_gpu_product", model.gfd_product, out);
      out->append(",label_nvidia_com_gpu_memory=\"");
      AppendInt(model.memory_mib, out);
      out->push_back('"');
      AppendLabel("label_nvidia_com_mig_strategy", node.any_mig ? "mixed" : "none", out);
      out->append(snap.cluster_suffix[c]);
      out->append(" 1\n");
    }
  }

  // One series per pod: a gang pod is listed once, at its node's first GPU.
  auto lists_pod = [&](const UnitState& state) {
    if (!state.holding) return false;
    if (!state.holding->gang) return true;
    const Gpu& gpu = fleet.gpus[fleet.units[state.unit].gpu];
    return gpu.index == 0;
  };
  AppendHeader("kube_pod_container_resource_requests", "gauge",
               "The number of requested request resource by a container.", out);
  for (const UnitState& state : snap.units) {
    if (!lists_pod(state)) continue;
    const Holding& h = *state.holding;
    const Gpu& gpu = fleet.gpus[fleet.units[state.unit].gpu];
    out->append("kube_pod_container_resource_requests{");
    AppendLabel("namespace", fleet.projects[h.project].ns, out, /*first=*/true);
    out->append(",pod=\"");
    AppendPodName(h, out);
    out->push_back('"');
    AppendLabel("container", ContainerName(h.kind), out);
    AppendLabel("node", fleet.nodes[gpu.node].name, out);
    out->append(",resource=\"");
    AppendResourceName(fleet, state.unit, out);
    out->append("\",unit=\"integer\"");
    out->append(snap.cluster_suffix[state.cluster]);
    out->push_back(' ');
    AppendInt(h.gang_size, out);
    out->push_back('\n');
  }
  AppendHeader("kube_pod_status_phase", "gauge", "The pods current phase.", out);
  for (const UnitState& state : snap.units) {
    if (!lists_pod(state)) continue;
    const Holding& h = *state.holding;
    out->append("kube_pod_status_phase{");
    AppendLabel("namespace", fleet.projects[h.project].ns, out, /*first=*/true);
    out->append(",pod=\"");
    AppendPodName(h, out);
    out->append("\",phase=\"Running\"");
    out->append(snap.cluster_suffix[state.cluster]);
    out->append(" 1\n");
  }
}

}  // namespace

void AppendExposition(const Fleet& fleet, int hub, Timestamp now, std::string* out) {
  const Snapshot snap = TakeSnapshot(fleet, hub, now);
  // About 11 DCGM lines of ~300 bytes per unit, plus kube lines.
  out->reserve(out->size() + snap.units.size() * 3600 + 4096);
  AppendDcgm(fleet, snap, out);
  AppendKube(fleet, hub, snap, out);
}

std::string RenderExposition(const Fleet& fleet, std::string_view hub, Timestamp now) {
  std::string out;
  auto index = FindHub(fleet, hub);
  if (!index) return out;
  AppendExposition(fleet, *index, now, &out);
  return out;
}

}  // namespace aitelemetry::sim
